import { escapePointer, isObject } from '../../shared/json-values.js';
import { LEGACY_EXPRESSION_LIMITS } from '../../shared/run-limits.js';
import { ResultTooLarge } from './budgets.js';
import { evaluate, evaluateNow, expressionError, type EvalOptions } from './evaluate.js';
import { NEEDS_JSONATA } from './fast-path.js';

/**
 * `{{ }}` templates. In step config a string that is exactly `"{{ expr }}"` becomes the
 * expression's value with its JSON type; `"Hi {{ trigger.name }}!"` interpolates.
 */
const WHOLE = /^\s*\{\{([\s\S]+?)\}\}\s*$/;
const PART = /\{\{([\s\S]+?)\}\}/g;

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
  return now === NEEDS_JSONATA ? renderTemplates(value, scope, opts) : now;
}

/** A JSON value with its templates evaluated at once (no promise), or NEEDS_JSONATA (see evaluateNow). */
export function renderNow(value: unknown, scope: unknown, opts: EvalOptions = {}): unknown {
  if (!hasTemplate(value)) return value;
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && !whole[1]?.includes('}}')) return evaluateNow((whole[1] ?? '').trim(), scope, opts);
    const values = [...value.matchAll(PART)].map((m) => evaluateNow((m[1] ?? '').trim(), scope, opts));
    return values.includes(NEEDS_JSONATA) ? NEEDS_JSONATA : interpolate(value, values, opts);
  }
  const items = Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value as Record<string, unknown>);
  const rendered: [string | number, unknown][] = [];
  for (const [k, v] of items) {
    const r = renderNow(v, scope, opts);
    if (r === NEEDS_JSONATA) return NEEDS_JSONATA;
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
