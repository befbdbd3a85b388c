import { z } from 'zod';
import { issueProblems, type DefinitionProblem } from '../shared/errors.js';
import { DURATION_PATTERN } from './duration.js';
import { EVENT_KEY_PATTERN, EVENT_KEY_RULE } from './event-names.js';
import { escapePointer, isObject, jsonPointer } from '../shared/json-values.js';
import { isTemplate, templateExpressions } from './expressions/templates.js';
import { syntaxError } from './expressions/evaluate.js';
import { checkFlow } from './flow.js';
import { secretReferenceProblems } from './secret-reference.js';
import { DEFINITION_LIMITS } from '../shared/run-limits.js';
import {
  languageOf,
  nestedBlocks,
  BUILT_IN_STEP_TYPES,
  definitionFields,
  type ConnectorCatalog,
  type ConnectorStep,
  type Definition,
  type LanguageConnector,
  type Step,
} from './schema.js';

export type ValidationResult = { ok: true; definition: Definition } | { ok: false; problems: DefinitionProblem[] };

/** The definition with its steps left unchecked, so each step is checked (and reported) on its own. */
const DefinitionShellSchema = z.strictObject({
  ...definitionFields,
  steps: z.array(z.unknown()).min(1, 'a workflow needs at least one step'),
});

/**
 * Checks a definition statically and reports every problem at once, each with a JSON pointer:
 * schema, unknown step types, connector config, duplicate ids (across nested blocks), routes
 * (`next`, `cases`, `default`, `onError`, `onTimeout`) within their block, unreachable steps,
 * loops with no way out, and expression syntax. Connector steps are those of `connectors` (the
 * connector registry, src/activities/registry.ts).
 * @example validateDefinition({ name: 'x', steps: [{ id: 'a', type: 'nope' }] }, registry)
 *   // → { ok: false, problems: [{ pointer: '/steps/0/type', message: "unknown step type 'nope' ..." }] }
 */
export function validateDefinition(raw: unknown, connectors: ConnectorCatalog): ValidationResult {
  const language = languageOf(connectors);
  const size = JSON.stringify(raw)?.length ?? 0;
  if (size > DEFINITION_LIMITS.definitionBytes) {
    return {
      ok: false,
      problems: [
        {
          pointer: '',
          message: `the definition is ${size} bytes as JSON, more than the limit of ${DEFINITION_LIMITS.definitionBytes}`,
        },
      ],
    };
  }
  const problems: DefinitionProblem[] = [];
  const shell = DefinitionShellSchema.safeParse(raw);
  if (!shell.success) problems.push(...fromZod(shell.error, '', raw, language.stepTypes));
  const rawSteps = isObject(raw) && Array.isArray(raw.steps) ? raw.steps : [];

  const steps: Step[] = [];
  const all: { step: Step; pointer: string }[] = [];
  rawSteps.forEach((rawStep, i) => {
    const parsed = language.step.safeParse(rawStep);
    if (!parsed.success) return problems.push(...fromZod(parsed.error, `/steps/${i}`, rawStep, language.stepTypes));
    steps.push(parsed.data);
    all.push(...flatten(parsed.data, `/steps/${i}`));
  });
  for (const { step, pointer } of all) checkStep(step, pointer, connectors, problems);
  if (shell.success) checkCancelOn(shell.data.cancelOn ?? [], problems);
  for (const { step, pointer } of all) problems.push(...stepSecretProblems(step, pointer));
  checkIds(all, problems);
  if (steps.length === rawSteps.length) checkFlow(steps, '/steps', problems);

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, definition: language.definition.parse(raw) };
}

/** One step on its own (routes are not checked): for a step patched when re-driving a dead letter. */
export function validateStep(
  raw: unknown,
  connectors: ConnectorCatalog,
): { ok: true; step: Step } | { ok: false; problems: DefinitionProblem[] } {
  const language = languageOf(connectors);
  const parsed = language.step.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: fromZod(parsed.error, '', raw, language.stepTypes) };
  const problems: DefinitionProblem[] = [];
  for (const { step, pointer } of flatten(parsed.data, '')) {
    checkStep(step, pointer, connectors, problems);
    problems.push(...stepSecretProblems(step, pointer));
  }
  return problems.length ? { ok: false, problems } : { ok: true, step: parsed.data };
}

/** The malformed `$secret('…')` references of a connector step's config. */
const stepSecretProblems = (step: Step, pointer: string): DefinitionProblem[] =>
  'config' in step ? secretReferenceProblems(step.config, `${pointer}/config`) : [];

/** Every step of a definition, nested ones included, each with its JSON pointer. */
export const allSteps = (definition: Definition): { step: Step; pointer: string }[] =>
  definition.steps.flatMap((step, i) => flatten(step, `/steps/${i}`));

/** A step and the steps nested in it, each with its JSON pointer. */
function flatten(step: Step, pointer: string): { step: Step; pointer: string }[] {
  const nested = nestedBlocks(step).flatMap((b) =>
    b.steps.flatMap((s, i) => flatten(s, `${pointer}${b.pointer}/${i}`)),
  );
  return [{ step, pointer }, ...nested];
}

function checkIds(all: { step: Step; pointer: string }[], problems: DefinitionProblem[]): void {
  const seen = new Set<string>();
  for (const { step, pointer } of all) {
    if (seen.has(step.id))
      problems.push({
        pointer: `${pointer}/id`,
        message: `duplicate step id '${step.id}' (ids are unique across nested blocks)`,
      });
    seen.add(step.id);
  }
}

const isConnectorStep = (step: Step): step is ConnectorStep => !BUILT_IN_STEP_TYPES.includes(step.type);

function checkStep(step: Step, pointer: string, connectors: ConnectorCatalog, problems: DefinitionProblem[]): void {
  checkExpressions(step, pointer, connectors, problems);
  if (isConnectorStep(step)) checkConnectorStep(step, pointer, connectors, problems);
  if (step.type === 'delay') checkDelay(step.config, `${pointer}/config`, problems);
  if (step.type === 'wait_for_event' && step.config.key !== undefined)
    checkEventKey(step.config.key, `${pointer}/config/key`, problems);
}

/** `cancelOn` keys are templates over the trigger, or keys as written. */
function checkCancelOn(cancelOn: { name: string; key: string }[], problems: DefinitionProblem[]): void {
  cancelOn.forEach((c, i) => {
    const pointer = `/cancelOn/${i}/key`;
    for (const t of templateExpressions(c.key, pointer)) {
      const error = expressionProblem(t.expression);
      if (error) problems.push({ pointer, message: `expression in {{ ${t.expression.slice(0, 80)} }}: ${error}` });
    }
    checkEventKey(c.key, pointer, problems);
  });
}

/** A key written without a template must be a valid key already. */
function checkEventKey(key: string, pointer: string, problems: DefinitionProblem[]): void {
  if (!isTemplate(key) && !EVENT_KEY_PATTERN.test(key)) problems.push({ pointer, message: EVENT_KEY_RULE });
}

function checkExpressions(
  step: Step,
  pointer: string,
  connectors: ConnectorCatalog,
  problems: DefinitionProblem[],
): void {
  const bare: [string, string | undefined][] = [
    ['when', step.when],
    ['output', step.output],
    ['config/expression', step.type === 'transform' ? step.config.expression : undefined],
    ['items', step.type === 'foreach' ? step.items : undefined],
    ...(step.type === 'choice' ? step.cases.map((c, i): [string, string] => [`cases/${i}/when`, c.when]) : []),
  ];
  for (const [field, expression] of bare) {
    const error = expression === undefined ? undefined : expressionProblem(expression);
    if (error) problems.push({ pointer: `${pointer}/${field}`, message: `expression ${error}` });
  }
  if (!('config' in step) || step.type === 'transform') return;
  const verbatim = connectors.get(step.type)?.defaults.verbatim ?? [];
  const templates = Object.fromEntries(Object.entries(step.config ?? {}).filter(([key]) => !verbatim.includes(key)));
  for (const t of templateExpressions(templates, `${pointer}/config`)) {
    const error = expressionProblem(t.expression);
    if (error)
      problems.push({ pointer: t.pointer, message: `expression in {{ ${t.expression.slice(0, 80)} }}: ${error}` });
  }
}

/** Too long to keep (parsed, an expression takes tens of times its length), or not JSONata. */
function expressionProblem(expression: string): string | undefined {
  const max = DEFINITION_LIMITS.expressionLength;
  if (expression.length > max) return `is ${expression.length} characters long, more than the limit of ${max}`;
  const error = syntaxError(expression);
  return error && `syntax: ${error}`;
}

/** A connector step's config against its connector's schema, and its connection against what the connector takes. */
function checkConnectorStep(
  step: ConnectorStep,
  pointer: string,
  connectors: ConnectorCatalog,
  problems: DefinitionProblem[],
): void {
  const connector = connectors.get(step.type);
  if (!connector) return;
  checkConnectorConfig(connector, step.config, `${pointer}/config`, problems);
  for (const [field, message] of Object.entries(connector.literal ?? {}))
    if (isTemplate(step.config[field]))
      problems.push({ pointer: `${pointer}/config/${escapePointer(field)}`, message });
  if (step.connection !== undefined && !connector.connection)
    problems.push({ pointer: `${pointer}/connection`, message: `a ${step.type} step takes no connection` });
  if (step.connection === undefined && connector.connection?.required) {
    problems.push({
      pointer: `${pointer}/connection`,
      message: `a ${step.type} step names its '${connector.connection.kind.type}' connection in \`connection\``,
    });
  }
}

/** Connector config may hold templates whose type is known only at run time: those are not judged. */
function checkConnectorConfig(
  connector: Pick<LanguageConnector, 'configSchema' | 'defaults'>,
  config: Record<string, unknown>,
  pointer: string,
  problems: DefinitionProblem[],
): void {
  const parsed = connector.configSchema.safeParse(config);
  if (parsed.success) return;
  const verbatim = connector.defaults.verbatim ?? [];
  for (const issue of parsed.error.issues) {
    const field = issue.path[0];
    const asWritten = typeof field === 'string' && verbatim.includes(field);
    if (!asWritten && isTemplate(valueAt(config, issue.path))) continue;
    problems.push(...issueProblems([issue], pointer));
  }
}

function checkDelay(
  config: { duration: string } | { until: string },
  pointer: string,
  problems: DefinitionProblem[],
): void {
  if ('duration' in config) {
    if (!isTemplate(config.duration) && !DURATION_PATTERN.test(config.duration))
      problems.push({
        pointer: `${pointer}/duration`,
        message: 'a duration is a number and a unit, e.g. 500ms, 90s, 10m, 2h, 1d',
      });
  } else if (!isTemplate(config.until) && Number.isNaN(Date.parse(config.until))) {
    problems.push({ pointer: `${pointer}/until`, message: 'until is an ISO 8601 time or a {{ }} expression' });
  }
}

/** zod issues as problems; an unknown step type is named, with the known ones. */
function fromZod(error: z.ZodError, prefix: string, raw: unknown, stepTypes: readonly string[]): DefinitionProblem[] {
  return error.issues.map((issue) => {
    const pointer = `${prefix}${jsonPointer(issue.path)}`;
    const value = valueAt(raw, issue.path);
    if (
      issue.code === 'invalid_union' &&
      issue.path.at(-1) === 'type' &&
      typeof value === 'string' &&
      !stepTypes.includes(value)
    ) {
      return { pointer, message: `unknown step type '${value}'; known types: ${stepTypes.join(', ')}` };
    }
    return { pointer, message: issue.message };
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = isObject(value) || Array.isArray(value) ? Reflect.get(value, key) : undefined;
  return value;
}
