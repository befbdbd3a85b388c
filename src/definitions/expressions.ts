import jsonata from 'jsonata';
import { AppError } from '../shared/errors.js';

/**
 * JSONata expressions and `{{ }}` templates. In step config a string that is exactly
 * `"{{ expr }}"` becomes the expression's value with its JSON type; `"Hi {{ trigger.name }}!"`
 * interpolates. Pure code: it runs inside the workflow sandbox, where time is replay-safe.
 */
const WHOLE = /^\s*\{\{([\s\S]+?)\}\}\s*$/;
const PART = /\{\{([\s\S]+?)\}\}/g;

const cache = new Map<string, jsonata.Expression>();

/**
 * `$secret('name')` evaluates to this placeholder; only the activity that uses it swaps in the
 * value, so secrets never enter workflow history.
 */
export const secretPlaceholder = (name: unknown): string => `\u001fsecret:${String(name)}\u001f`;
const bindings = { secret: secretPlaceholder };

function compile(expression: string): jsonata.Expression {
  let compiled = cache.get(expression);
  if (!compiled) {
    compiled = jsonata(expression);
    if (cache.size > 5000) cache.clear();
    cache.set(expression, compiled);
  }
  return compiled;
}

/** The syntax error of an expression, or undefined when it parses. */
export function syntaxError(expression: string): string | undefined {
  try {
    compile(expression);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Evaluates a bare expression against a scope such as the run context. */
export async function evaluate(expression: string, scope: unknown): Promise<unknown> {
  const now = evaluateNow(expression, scope);
  if (now !== LATER) return now;
  try {
    return normalize(await compile(expression).evaluate(scope, bindings));
  } catch (err) {
    throw expressionError(expression, err);
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
export function evaluateNow(expression: string, scope: unknown): unknown {
  try {
    // A plain path needs no parsing.
    const plain = PLAIN_PATH.test(expression) ? walk(expression.split('.'), scope) : LATER;
    if (plain !== LATER) return normalize(plain);
    const value = quick(compile(expression).ast() as unknown as Node, scope);
    return value === LATER ? LATER : normalize(value);
  } catch (err) {
    throw expressionError(expression, err);
  }
}

function expressionError(expression: string, err: unknown): AppError {
  const reason = err instanceof Error ? err.message : String(err);
  return new AppError({ code: 'EXPRESSION_ERROR', message: `expression '${expression}' failed: ${reason}`, httpStatus: 400 });
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
const ARITHMETIC: Record<string, (a: number, b: number) => number> = { '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b };
const ORDER: Record<string, (a: number | string, b: number | string) => boolean> = { '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b };
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
        if (!only(node, ['type', 'steps', 'position']) || steps.some((step) => step.type !== 'name' || !only(step, ['type', 'value', 'position']))) return LATER;
        return walk(steps.map((step) => String(step.value)), scope);
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
        if (arithmetic) return typeof a === 'number' && typeof b === 'number' && Number.isFinite(arithmetic(a, b)) ? arithmetic(a, b) : LATER;
        if (order) return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string') ? order(a, b) : LATER;
        if (op === '=' || op === '!=') return isPrimitive(a) && isPrimitive(b) ? (a === b) === (op === '=') : LATER;
        if (op === 'and' || op === 'or') return typeof a === 'boolean' && typeof b === 'boolean' ? (op === 'and' ? a && b : a || b) : LATER;
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

/** JSONata results may carry non-JSON markers (sequences, undefined); keep only JSON. */
function normalize(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value) ?? 'null');
}

/** Every `{{ }}` expression in a JSON value, with the JSON pointer of the string holding it. */
export function templateExpressions(value: unknown, pointer = ''): { pointer: string; expression: string }[] {
  if (typeof value === 'string') return [...value.matchAll(PART)].map((m) => ({ pointer, expression: (m[1] ?? '').trim() }));
  if (Array.isArray(value)) return value.flatMap((v, i) => templateExpressions(v, `${pointer}/${i}`));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => templateExpressions(v, `${pointer}/${escapePointer(k)}`));
  return [];
}

/** True when a value is a template string, so its type is only known at run time. */
export const isTemplate = (value: unknown): boolean => typeof value === 'string' && value.includes('{{');

/** Evaluates every template in a JSON value (strings, arrays, objects, deeply). */
export async function render(value: unknown, scope: unknown): Promise<unknown> {
  const now = renderNow(value, scope);
  return now === LATER ? renderTemplates(value, scope) : now;
}

/** A JSON value with its templates evaluated at once (no promise), or LATER (see evaluateNow). */
export function renderNow(value: unknown, scope: unknown): unknown {
  if (!hasTemplate(value)) return value;
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && !whole[1]?.includes('}}')) return evaluateNow((whole[1] ?? '').trim(), scope);
    const values = [...value.matchAll(PART)].map((m) => evaluateNow((m[1] ?? '').trim(), scope));
    return values.includes(LATER) ? LATER : interpolate(value, values);
  }
  const items = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value as Record<string, unknown>);
  const rendered: [string | number, unknown][] = [];
  for (const [k, v] of items) {
    const r = renderNow(v, scope);
    if (r === LATER) return LATER;
    rendered.push([k, r]);
  }
  return Array.isArray(value) ? rendered.map(([, r]) => r) : Object.fromEntries(rendered);
}

async function renderTemplates(value: unknown, scope: unknown): Promise<unknown> {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return Promise.all(value.map((v) => render(v, scope)));
  if (isObject(value)) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await render(v, scope)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

const hasTemplate = (value: unknown): boolean =>
  typeof value === 'string' ? value.includes('{{') : Array.isArray(value) ? value.some(hasTemplate) : isObject(value) ? Object.values(value).some(hasTemplate) : false;

async function renderString(text: string, scope: unknown): Promise<unknown> {
  const whole = WHOLE.exec(text);
  if (whole && !whole[1]?.includes('}}')) return evaluate((whole[1] ?? '').trim(), scope);
  if (!text.includes('{{')) return text;
  const values = await Promise.all([...text.matchAll(PART)].map((m) => evaluate((m[1] ?? '').trim(), scope)));
  return interpolate(text, values);
}

/** A template string with each `{{ }}` replaced by its value (null as nothing, non-strings as JSON). */
function interpolate(text: string, values: unknown[]): string {
  let i = 0;
  return text.replace(PART, () => {
    const v = values[i++];
    return v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  });
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const escapePointer = (segment: string | number): string => String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
