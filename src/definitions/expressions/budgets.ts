import type { ExpressionLimits } from '../../shared/run-limits.js';

/**
 * Budgets. JSONata calls these hooks as it enters and leaves every node; the budget of the
 * evaluation in progress is bound in its base frame, so concurrent evaluations (parallel
 * branches) each count their own. Counting nodes rather than time keeps a replay exact.
 */
export const ENTRY = Symbol.for('jsonata.__evaluate_entry');
export const EXIT = Symbol.for('jsonata.__evaluate_exit');
/** The name the budget of an evaluation is bound under. */
export const BUDGET = '__miniZapsBudget';

interface Frame {
  base: { depth: number; lookup(name: string): unknown };
}
export class Budget {
  steps = 0;
  exceeded: { limit: keyof ExpressionLimits; value: number } | undefined;
  constructor(readonly limits: ExpressionLimits) {}

  check(limit: keyof ExpressionLimits, value: number): void {
    if (value <= this.limits[limit]) return;
    this.exceeded = { limit, value };
    throw new Error(`${limit} limit of ${this.limits[limit]} exceeded`);
  }
}
const budgetOf = (env: Frame): Budget | undefined => {
  const budget = env.base.lookup(BUDGET);
  return budget instanceof Budget ? budget : undefined;
};
export function onEntry(_expr: unknown, _input: unknown, env: Frame): void {
  const budget = budgetOf(env);
  if (!budget) return;
  budget.steps += 1;
  budget.check('steps', budget.steps);
  budget.check('depth', env.base.depth);
}
export function onExit(_expr: unknown, _input: unknown, env: Frame, result: unknown): void {
  const budget = budgetOf(env);
  if (!budget) return;
  if (typeof result === 'string') budget.check('stringLength', result.length);
  else if (Array.isArray(result)) budget.check('items', result.length);
}

/** A result over the `resultBytes` budget. */
export class ResultTooLarge extends Error {
  constructor(readonly exceeded: { limit: 'resultBytes'; value: number; max: number }) {
    super(`the result exceeds ${exceeded.max} bytes`);
  }
}

/** JSONata results may carry non-JSON markers (sequences, undefined); keep only JSON, within the result budget. */
export function normalize(value: unknown, limits: ExpressionLimits): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null; // as JSON has it: -0 is 0, NaN null
  const text = JSON.stringify(value) ?? 'null';
  if (text.length > limits.resultBytes)
    throw new ResultTooLarge({ limit: 'resultBytes', value: text.length, max: limits.resultBytes });
  return typeof value === 'string' ? value : JSON.parse(text);
}
