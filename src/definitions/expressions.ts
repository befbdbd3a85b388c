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
export const SECRET_PLACEHOLDER = /\u001fsecret:([^\u001f]*)\u001f/g;
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
  const found = lookUp(expression, scope);
  if (found !== NOT_A_PATH) return normalize(found);
  try {
    const value: unknown = await compile(expression).evaluate(scope, bindings);
    return normalize(value);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new AppError({ code: 'EXPRESSION_ERROR', message: `expression '${expression}' failed: ${reason}`, httpStatus: 400 });
  }
}

const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const KEYWORDS = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);
const NOT_A_PATH = Symbol('not a path');

/**
 * The value of a plain path such as `steps.call.output.status` through objects only, as JSONata
 * would give it, without JSONata: its evaluation is asynchronous all the way down, and in the
 * workflow sandbox every promise costs a captured stack trace. Anything else (arrays on the way,
 * operators, functions) is left to JSONata.
 */
function lookUp(expression: string, scope: unknown): unknown {
  if (!PATH.test(expression)) return NOT_A_PATH;
  let value: unknown = scope;
  for (const name of expression.split('.')) {
    if (KEYWORDS.has(name) || !isObject(value)) return NOT_A_PATH;
    value = Object.hasOwn(value, name) ? value[name] : undefined;
  }
  return Array.isArray(value) ? NOT_A_PATH : value;
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
  return hasTemplate(value) ? renderTemplates(value, scope) : value;
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
  const parts = [...text.matchAll(PART)];
  const values = await Promise.all(parts.map((m) => evaluate((m[1] ?? '').trim(), scope)));
  let i = 0;
  return text.replace(PART, () => {
    const v = values[i++];
    return v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  });
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const escapePointer = (segment: string | number): string => String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
