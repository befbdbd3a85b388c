import jsonata from 'jsonata';
import { AppError } from '../shared/errors.js';
import { LEGACY_EXPRESSION_LIMITS, type ExpressionLimits } from '../shared/run-limits.js';
import { LinearRegExp, regexProblem } from './linear-regex.js';

/**
 * JSONata expressions and `{{ }}` templates. In step config a string that is exactly
 * `"{{ expr }}"` becomes the expression's value with its JSON type; `"Hi {{ trigger.name }}!"`
 * interpolates. Pure code: it runs inside the workflow sandbox, where time is replay-safe.
 * Every evaluation runs under budgets (see shared/run-limits.ts) and regexes run in linear time.
 */
const WHOLE = /^\s*\{\{([\s\S]+?)\}\}\s*$/;
const PART = /\{\{([\s\S]+?)\}\}/g;

/** How an evaluation runs: its budgets, and the nonce `$secret()` references carry (connector config only). */
export interface EvalOptions {
  limits?: ExpressionLimits;
  secretNonce?: string;
}

/**
 * `$secret('name')` evaluates to this reference; only the activity that uses it swaps in the
 * value, so secrets never enter workflow history. The nonce is drawn afresh for each render of a
 * connector's config and handed to the activity beside it: a reference copied from data (a
 * trigger, an event, a response) was made before that nonce existed, so it is never resolved.
 */
export const secretPlaceholder = (name: unknown, nonce = ''): string =>
  `\u001fsecret:${nonce ? `${nonce}:` : ''}${String(name)}\u001f`;

/**
 * Parsed expressions, shared by the runs of a worker thread. Bounded in count and in the
 * characters of the expressions it holds (a parsed expression takes tens of times its length);
 * long expressions are parsed each time rather than kept.
 */
const cache = new Map<string, jsonata.Expression>();
const CACHE_MAX_ENTRIES = 2000;
const CACHE_MAX_CHARS = 1_000_000;
const CACHE_MAX_EXPRESSION = 4096;
let cachedChars = 0;

function compile(expression: string): jsonata.Expression {
  const hit = cache.get(expression);
  if (hit) return hit;
  // jsonata constructs its RegexEngine as it would RegExp; LinearRegExp gives what it reads of one.
  const compiled = jsonata(expression, { RegexEngine: LinearRegExp as unknown as RegExpConstructor });
  // jsonata's types know only string names; its evaluation hooks are bound under these symbols.
  compiled.assign(ENTRY as unknown as string, onEntry);
  compiled.assign(EXIT as unknown as string, onExit);
  if (expression.length > CACHE_MAX_EXPRESSION) return compiled;
  while (cache.size >= CACHE_MAX_ENTRIES || (cachedChars + expression.length > CACHE_MAX_CHARS && cache.size > 0)) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
    cachedChars -= oldest.length;
  }
  cache.set(expression, compiled);
  cachedChars += expression.length;
  return compiled;
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

/*
 * Budgets. JSONata calls these hooks as it enters and leaves every node; the budget of the
 * evaluation in progress is bound in its base frame, so concurrent evaluations (parallel
 * branches) each count their own. Counting nodes rather than time keeps a replay exact.
 */
const ENTRY = Symbol.for('jsonata.__evaluate_entry');
const EXIT = Symbol.for('jsonata.__evaluate_exit');
const BUDGET = '__miniZapsBudget';

interface Frame {
  base: { depth: number; lookup(name: string): unknown };
}
class Budget {
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
function onEntry(_expr: unknown, _input: unknown, env: Frame): void {
  const budget = budgetOf(env);
  if (!budget) return;
  budget.steps += 1;
  budget.check('steps', budget.steps);
  budget.check('depth', env.base.depth);
}
function onExit(_expr: unknown, _input: unknown, env: Frame, result: unknown): void {
  const budget = budgetOf(env);
  if (!budget) return;
  if (typeof result === 'string') budget.check('stringLength', result.length);
  else if (Array.isArray(result)) budget.check('items', result.length);
}

/** The bindings of one evaluation: `$secret()` and the budget. */
const bindingsFor = (budget: Budget, opts: EvalOptions) => ({
  secret: (name: unknown) => secretPlaceholder(name, opts.secretNonce),
  [BUDGET]: budget,
});

/** Evaluates a bare expression against a scope such as the run context. */
export async function evaluate(expression: string, scope: unknown, opts: EvalOptions = {}): Promise<unknown> {
  const now = evaluateNow(expression, scope, opts);
  if (now !== LATER) return now;
  const limits = opts.limits ?? LEGACY_EXPRESSION_LIMITS;
  const budget = new Budget(limits);
  try {
    return normalize(await compile(expression).evaluate(scope, bindingsFor(budget, opts)), limits);
  } catch (err) {
    throw expressionError(expression, err, budget);
  }
}

/**
 * What `evaluateNow` and `renderNow` give when only JSONata itself, which is asynchronous all the
 * way down, can evaluate an expression: then `evaluate` or `render` does.
 */
export const LATER: unique symbol = Symbol('later');

/**
 * An expression's value at once (no promise) or LATER. In the workflow sandbox every promise
 * costs a captured stack trace, so the everyday expressions should make none.
 */
export function evaluateNow(expression: string, scope: unknown, opts: EvalOptions = {}): unknown {
  const limits = opts.limits ?? LEGACY_EXPRESSION_LIMITS;
  try {
    // A plain path needs no parsing.
    const plain = PLAIN_PATH.test(expression) ? walk(expression.split('.'), scope) : LATER;
    if (plain !== LATER) return normalize(plain, limits);
    const value = quick(compile(expression).ast() as unknown as Node, scope);
    return value === LATER ? LATER : normalize(value, limits);
  } catch (err) {
    throw expressionError(expression, err);
  }
}

/** An expression's failure: EXPRESSION_LIMIT when a budget ran out, EXPRESSION_ERROR otherwise. Neither is retried. */
function expressionError(expression: string, err: unknown, budget?: Budget): AppError {
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

/** A field name JSONata reads as a name: not one of its keywords. */
const NAME = '(?!(and|or|in|true|false|null|function)(\\.|$))[A-Za-z_]\\w*';
const PLAIN_PATH = new RegExp(`^${NAME}(\\.${NAME})*$`);

/** What `quick` reads of JSONata's parsed form (the published type leaves some of it out). */
interface Node {
  type: string;
  value?: unknown;
  steps?: Node[];
  expressions?: Node[];
  expression?: Node;
  condition?: Node;
  then?: Node;
  else?: Node;
  lhs?: Node | [Node, Node][];
  rhs?: Node;
}
const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
};
const ORDER: Record<string, (a: number | string, b: number | string) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};
const isPrimitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const only = (node: Node, keys: string[]) => Object.keys(node).every((k) => keys.includes(k));

/** A path of field names through objects only; LATER where JSONata's rules for arrays or missing values would apply. */
function walk(names: string[], scope: unknown): unknown {
  let value = scope;
  for (const name of names) {
    if (!isObject(value)) return LATER;
    value = Object.hasOwn(value, name) ? value[name] : undefined;
  }
  return Array.isArray(value) || value === undefined ? LATER : value;
}

/**
 * The everyday part of JSONata (paths through objects, literals, object constructors, arithmetic,
 * comparisons, `and`/`or`, `? :`) evaluated at once, giving what JSONata gives; LATER for
 * anything else (arrays, functions, mixed types, missing values), which JSONata then evaluates.
 * JSONata itself is asynchronous all the way down, and in the workflow sandbox every promise
 * costs a captured stack trace: this keeps most expressions from making any.
 */
function quick(node: Node, scope: unknown): unknown {
  const sure = (n: Node | [Node, Node][] | undefined) => {
    if (Array.isArray(n)) throw LATER;
    const v = n === undefined ? LATER : quick(n, scope);
    if (v === LATER || v === undefined) throw LATER;
    return v;
  };
  try {
    switch (node.type) {
      case 'string':
      case 'number':
        return node.value;
      case 'value':
        return node.value === true || node.value === false || node.value === null ? node.value : LATER;
      case 'path': {
        const steps = node.steps ?? [];
        if (
          !only(node, ['type', 'steps', 'position']) ||
          steps.some((step) => step.type !== 'name' || !only(step, ['type', 'value', 'position']))
        )
          return LATER;
        return walk(
          steps.map((step) => String(step.value)),
          scope,
        );
      }
      case 'block':
        return node.expressions?.length === 1 ? sure(node.expressions[0]) : LATER;
      case 'condition': {
        const test = sure(node.condition);
        return typeof test === 'boolean' && node.else !== undefined ? sure(test ? node.then : node.else) : LATER;
      }
      case 'unary': {
        if (node.value === '-') {
          const v = sure(node.expression);
          return typeof v === 'number' ? -v : LATER;
        }
        if (node.value !== '{' || !only(node, ['type', 'value', 'position', 'lhs'])) return LATER;
        const object: Record<string, unknown> = {};
        if (!Array.isArray(node.lhs)) return LATER;
        for (const [key, value] of node.lhs) {
          if (key.type !== 'string' || Object.hasOwn(object, String(key.value))) return LATER;
          object[String(key.value)] = sure(value);
        }
        return object;
      }
      case 'binary': {
        const op = String(node.value);
        const [a, b] = [sure(node.lhs), sure(node.rhs)];
        const arithmetic = Object.hasOwn(ARITHMETIC, op) ? ARITHMETIC[op] : undefined;
        const order = Object.hasOwn(ORDER, op) ? ORDER[op] : undefined;
        if (arithmetic)
          return typeof a === 'number' && typeof b === 'number' && Number.isFinite(arithmetic(a, b))
            ? arithmetic(a, b)
            : LATER;
        if (order)
          return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')
            ? order(a, b)
            : LATER;
        if (op === '=' || op === '!=') return isPrimitive(a) && isPrimitive(b) ? (a === b) === (op === '=') : LATER;
        if (op === 'and' || op === 'or')
          return typeof a === 'boolean' && typeof b === 'boolean' ? (op === 'and' ? a && b : a || b) : LATER;
        if (op === '&') return typeof a === 'string' && typeof b === 'string' ? a + b : LATER;
        return LATER;
      }
      default:
        return LATER;
    }
  } catch (err) {
    if (err === LATER) return LATER;
    throw err;
  }
}

class ResultTooLarge extends Error {
  constructor(readonly exceeded: { limit: 'resultBytes'; value: number; max: number }) {
    super(`the result exceeds ${exceeded.max} bytes`);
  }
}

/** JSONata results may carry non-JSON markers (sequences, undefined); keep only JSON, within the result budget. */
function normalize(value: unknown, limits: ExpressionLimits): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null; // as JSON has it: -0 is 0, NaN null
  const text = JSON.stringify(value) ?? 'null';
  if (text.length > limits.resultBytes)
    throw new ResultTooLarge({ limit: 'resultBytes', value: text.length, max: limits.resultBytes });
  return typeof value === 'string' ? value : JSON.parse(text);
}

/** Every `{{ }}` expression in a JSON value, with the JSON pointer of the string holding it. */
export function templateExpressions(value: unknown, pointer = ''): { pointer: string; expression: string }[] {
  if (typeof value === 'string')
    return [...value.matchAll(PART)].map((m) => ({ pointer, expression: (m[1] ?? '').trim() }));
  if (Array.isArray(value)) return value.flatMap((v, i) => templateExpressions(v, `${pointer}/${i}`));
  if (isObject(value))
    return Object.entries(value).flatMap(([k, v]) => templateExpressions(v, `${pointer}/${escapePointer(k)}`));
  return [];
}

/** True when a value is a template string, so its type is only known at run time. */
export const isTemplate = (value: unknown): boolean => typeof value === 'string' && value.includes('{{');

/** Evaluates every template in a JSON value (strings, arrays, objects, deeply). */
export async function render(value: unknown, scope: unknown, opts: EvalOptions = {}): Promise<unknown> {
  const now = renderNow(value, scope, opts);
  return now === LATER ? renderTemplates(value, scope, opts) : now;
}

/** A JSON value with its templates evaluated at once (no promise), or LATER (see evaluateNow). */
export function renderNow(value: unknown, scope: unknown, opts: EvalOptions = {}): unknown {
  if (!hasTemplate(value)) return value;
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && !whole[1]?.includes('}}')) return evaluateNow((whole[1] ?? '').trim(), scope, opts);
    const values = [...value.matchAll(PART)].map((m) => evaluateNow((m[1] ?? '').trim(), scope, opts));
    return values.includes(LATER) ? LATER : interpolate(value, values, opts);
  }
  const items = Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value as Record<string, unknown>);
  const rendered: [string | number, unknown][] = [];
  for (const [k, v] of items) {
    const r = renderNow(v, scope, opts);
    if (r === LATER) return LATER;
    rendered.push([k, r]);
  }
  return Array.isArray(value) ? rendered.map(([, r]) => r) : Object.fromEntries(rendered);
}

async function renderTemplates(value: unknown, scope: unknown, opts: EvalOptions): Promise<unknown> {
  if (typeof value === 'string') return renderString(value, scope, opts);
  if (Array.isArray(value)) return Promise.all(value.map((v) => render(v, scope, opts)));
  if (isObject(value)) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await render(v, scope, opts)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

const hasTemplate = (value: unknown): boolean =>
  typeof value === 'string'
    ? value.includes('{{')
    : Array.isArray(value)
      ? value.some(hasTemplate)
      : isObject(value)
        ? Object.values(value).some(hasTemplate)
        : false;

async function renderString(text: string, scope: unknown, opts: EvalOptions): Promise<unknown> {
  const whole = WHOLE.exec(text);
  if (whole && !whole[1]?.includes('}}')) return evaluate((whole[1] ?? '').trim(), scope, opts);
  if (!text.includes('{{')) return text;
  const values = await Promise.all([...text.matchAll(PART)].map((m) => evaluate((m[1] ?? '').trim(), scope, opts)));
  return interpolate(text, values, opts);
}

/** A template string with each `{{ }}` replaced by its value (null as nothing, non-strings as JSON), within the string budget. */
function interpolate(text: string, values: unknown[], opts: EvalOptions): string {
  let i = 0;
  const result = text.replace(PART, () => {
    const v = values[i++];
    return v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  });
  const max = (opts.limits ?? LEGACY_EXPRESSION_LIMITS).resultBytes;
  if (result.length > max)
    throw expressionError(text, new ResultTooLarge({ limit: 'resultBytes', value: result.length, max }));
  return result;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const escapePointer = (segment: string | number): string =>
  String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
