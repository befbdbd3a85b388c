import jsonata from 'jsonata';
import { AppError } from '../../shared/errors.js';
import { isObject } from '../../shared/json-values.js';
import { LEGACY_EXPRESSION_LIMITS, type ExpressionLimits } from '../../shared/run-limits.js';
import { regexProblem } from '../linear-regex.js';
import { Budget, BUDGET, normalize, ResultTooLarge } from './budgets.js';
import { evaluateFastPath, NEEDS_JSONATA } from './fast-path.js';
import { parseCached } from './parse-cache.js';
import { secretPlaceholder } from './secret-placeholders.js';

/**
 * JSONata expressions: evaluated at once where the fast path can (fast-path.ts), else by JSONata
 * from the parse cache (parse-cache.ts), always under budgets (budgets.ts, shared/run-limits.ts);
 * regexes run in linear time. Pure code: it runs inside the workflow sandbox, where time is
 * replay-safe. `{{ }}` templates are in templates.ts.
 */

/** How an evaluation runs: its budgets, and the nonce `$secret()` references carry (connector config only). */
export interface EvalOptions {
  limits?: ExpressionLimits;
  secretNonce?: string;
}

/** The syntax error of an expression (regexes RE2 cannot run included), or undefined when it parses. Caches nothing. */
export function syntaxError(expression: string): string | undefined {
  try {
    return regexProblems(jsonata(expression).ast());
  } catch (err) {
    return reasonOf(err);
  }
}

function regexProblems(node: unknown): string | undefined {
  if (node instanceof RegExp) return regexProblem(node);
  if (typeof node !== 'object' || node === null) return undefined;
  for (const value of Object.values(node)) {
    const problem = regexProblems(value);
    if (problem) return problem;
  }
  return undefined;
}

/** The bindings of one evaluation: `$secret()` and the budget. */
const bindingsFor = (budget: Budget, opts: EvalOptions) => ({
  secret: (name: unknown) => secretPlaceholder(name, opts.secretNonce),
  [BUDGET]: budget,
});

/** Evaluates a bare expression against a scope such as the run context. */
export async function evaluate(expression: string, scope: unknown, opts: EvalOptions = {}): Promise<unknown> {
  const now = evaluateNow(expression, scope, opts);
  if (now !== NEEDS_JSONATA) return now;
  const limits = opts.limits ?? LEGACY_EXPRESSION_LIMITS;
  const budget = new Budget(limits);
  try {
    return normalize(await parseCached(expression).evaluate(scope, bindingsFor(budget, opts)), limits);
  } catch (err) {
    throw expressionError(expression, err, budget);
  }
}

/**
 * An expression's value at once (no promise) or NEEDS_JSONATA. In the workflow sandbox every promise
 * costs a captured stack trace, so the everyday expressions should make none.
 */
export function evaluateNow(expression: string, scope: unknown, opts: EvalOptions = {}): unknown {
  const limits = opts.limits ?? LEGACY_EXPRESSION_LIMITS;
  try {
    const value = evaluateFastPath(expression, scope);
    return value === NEEDS_JSONATA ? NEEDS_JSONATA : normalize(value, limits);
  } catch (err) {
    throw expressionError(expression, err);
  }
}

/** An expression's failure: EXPRESSION_LIMIT when a budget ran out, EXPRESSION_ERROR otherwise. Neither is retried. */
export function expressionError(expression: string, err: unknown, budget?: Budget): AppError {
  const where = expression.length > 120 ? `${expression.slice(0, 117)}...` : expression;
  const exceeded =
    err instanceof ResultTooLarge
      ? err.exceeded
      : budget?.exceeded && { ...budget.exceeded, max: budget.limits[budget.exceeded.limit] };
  if (exceeded) {
    const message = `expression '${where}' exceeded its ${exceeded.limit} limit (${exceeded.max}; reached ${exceeded.value})`;
    return new AppError({ code: 'EXPRESSION_LIMIT', message, httpStatus: 400, details: { limit: exceeded.limit } });
  }
  return new AppError({
    code: 'EXPRESSION_ERROR',
    message: `expression '${where}' failed: ${reasonOf(err)}`,
    httpStatus: 400,
  });
}

/** JSONata throws plain objects `{ code, message, position }`, not Errors. */
function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (isObject(err) && typeof err.message === 'string') {
    return `${err.message}${typeof err.position === 'number' ? ` (at character ${err.position})` : ''}`;
  }
  return String(err);
}
