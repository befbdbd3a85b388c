import type { z } from 'zod';
import { connectors } from '../activities/registry.js';
import type { DefinitionProblem } from '../shared/errors.js';
import { DURATION_PATTERN } from './duration.js';
import { escapePointer, isObject, isTemplate, syntaxError, templateExpressions } from './expressions.js';
import { DefinitionSchema, DefinitionShellSchema, isConnectorStep, STEP_TYPES, StepSchema, type Definition, type Step } from './schema.js';

export type ValidationResult = { ok: true; definition: Definition } | { ok: false; problems: DefinitionProblem[] };

/**
 * Checks a definition statically and reports every problem at once, each with a JSON pointer:
 * schema, unknown step types, connector config, duplicate ids, `next`/`onError` targets,
 * unreachable steps and expression syntax.
 * @example validateDefinition({ name: 'x', steps: [{ id: 'a', type: 'nope' }] })
 *   // → { ok: false, problems: [{ pointer: '/steps/0/type', message: "unknown step type 'nope' ..." }] }
 */
export function validateDefinition(raw: unknown): ValidationResult {
  const problems: DefinitionProblem[] = [];
  const shell = DefinitionShellSchema.safeParse(raw);
  if (!shell.success) problems.push(...fromZod(shell.error, ''));
  const rawSteps = isObject(raw) && Array.isArray(raw.steps) ? raw.steps : [];

  const steps: { step: Step; pointer: string }[] = [];
  rawSteps.forEach((rawStep, i) => {
    const pointer = `/steps/${i}`;
    const step = checkStep(rawStep, pointer, problems);
    if (step) steps.push({ step, pointer });
  });
  if (steps.length === rawSteps.length) checkFlow(steps, problems);

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, definition: DefinitionSchema.parse(raw) };
}

function checkStep(raw: unknown, pointer: string, problems: DefinitionProblem[]): Step | undefined {
  if (isObject(raw) && typeof raw.type === 'string' && !STEP_TYPES.includes(raw.type)) {
    problems.push({ pointer: `${pointer}/type`, message: `unknown step type '${raw.type}'; known types: ${STEP_TYPES.join(', ')}` });
    return undefined;
  }
  const parsed = StepSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...fromZod(parsed.error, pointer));
    return undefined;
  }
  const step = parsed.data;
  checkExpressions(step, pointer, problems);
  if (isConnectorStep(step)) checkConnectorConfig(connectors[step.type].configSchema, step.config, `${pointer}/config`, problems);
  if (step.type === 'delay') checkDelay(step.config, `${pointer}/config`, problems);
  return step;
}

function checkExpressions(step: Step, pointer: string, problems: DefinitionProblem[]): void {
  const bare: [string, string | undefined][] = [
    ['when', step.when],
    ['output', step.output],
    ['config/expression', step.type === 'transform' ? step.config.expression : undefined],
  ];
  for (const [field, expression] of bare) {
    const error = expression === undefined ? undefined : syntaxError(expression);
    if (error) problems.push({ pointer: `${pointer}/${field}`, message: `expression syntax: ${error}` });
  }
  if (step.type === 'transform') return;
  for (const t of templateExpressions(step.config, `${pointer}/config`)) {
    const error = syntaxError(t.expression);
    if (error) problems.push({ pointer: t.pointer, message: `expression syntax in {{ ${t.expression} }}: ${error}` });
  }
}

/** Connector config may hold templates whose type is known only at run time: those are not judged. */
function checkConnectorConfig(schema: z.ZodType, config: Record<string, unknown>, pointer: string, problems: DefinitionProblem[]): void {
  const parsed = schema.safeParse(config);
  if (parsed.success) return;
  for (const issue of parsed.error.issues) {
    if (isTemplate(valueAt(config, issue.path))) continue;
    problems.push({ pointer: `${pointer}${toPointer(issue.path)}`, message: issue.message });
  }
}

function checkDelay(config: { duration: string } | { until: string }, pointer: string, problems: DefinitionProblem[]): void {
  if ('duration' in config) {
    if (!isTemplate(config.duration) && !DURATION_PATTERN.test(config.duration))
      problems.push({ pointer: `${pointer}/duration`, message: 'a duration is a number and a unit, e.g. 500ms, 90s, 10m, 2h, 1d' });
  } else if (!isTemplate(config.until) && Number.isNaN(Date.parse(config.until))) {
    problems.push({ pointer: `${pointer}/until`, message: 'until is an ISO 8601 time or a {{ }} expression' });
  }
}

/** Ids are unique, every route points at a step, and every step can be reached from the first. */
function checkFlow(steps: { step: Step; pointer: string }[], problems: DefinitionProblem[]): void {
  const index = new Map<string, number>();
  steps.forEach(({ step, pointer }, i) => {
    if (index.has(step.id)) problems.push({ pointer: `${pointer}/id`, message: `duplicate step id '${step.id}'` });
    else index.set(step.id, i);
  });
  const successors = steps.map(({ step, pointer }, i) => {
    const out: number[] = [];
    const route = (field: 'next' | 'onError', target: string | undefined) => {
      if (target === undefined || target === 'continue') return;
      const j = index.get(target);
      if (j === undefined) problems.push({ pointer: `${pointer}/${field}`, message: `'${target}' is not a step of this workflow` });
      else out.push(j);
    };
    route('next', step.next);
    route('onError', step.onError);
    const ends = step.type === 'succeed' || step.type === 'fail';
    if (step.next === undefined && !ends && i + 1 < steps.length) out.push(i + 1);
    return out;
  });
  const reached = new Set<number>([0]);
  const queue = [0];
  for (let i = queue.pop(); i !== undefined; i = queue.pop()) {
    for (const j of successors[i] ?? []) {
      if (reached.has(j)) continue;
      reached.add(j);
      queue.push(j);
    }
  }
  steps.forEach(({ step, pointer }, i) => {
    if (!reached.has(i)) problems.push({ pointer, message: `step '${step.id}' can never be reached` });
  });
}

function fromZod(error: z.ZodError, prefix: string): DefinitionProblem[] {
  return error.issues.map((issue) => ({ pointer: `${prefix}${toPointer(issue.path)}`, message: issue.message }));
}

const toPointer = (path: readonly PropertyKey[]): string => path.map((p) => `/${escapePointer(String(p))}`).join('');

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = isObject(value) || Array.isArray(value) ? Reflect.get(value, key) : undefined;
  return value;
}
