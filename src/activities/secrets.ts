import { replaceStrings } from '../shared/json-values.js';
import { secretMatcher } from './secret-forms.js';

/**
 * What `secretPlaceholder` (definitions/expressions/secret-placeholders.ts) makes of `$secret('name')` in a render
 * with `nonce`; without one (runs started before revision 3), of every `$secret('name')`.
 */
const placeholders = (nonce: string | undefined): RegExp =>
  nonce === undefined
    ? /\u001fsecret:([^\u001f]*)\u001f/g
    : new RegExp(`\u001fsecret:${nonce.replace(/[^0-9a-f-]/gi, '')}:([^\u001f]*)\u001f`, 'g');

const REDACTED = '[redacted]';

/**
 * Swaps `$secret('name')` references in an evaluated config for the secrets' values (deeply),
 * and returns the values used so they can be redacted from whatever leaves the activity. Only
 * references carrying this render's `nonce` are resolved: one that came from data (a trigger, an
 * event, a response) stays the text it was.
 */
export async function revealSecrets(
  value: unknown,
  reveal: (name: string) => Promise<string>,
  nonce?: string,
): Promise<{ value: unknown; used: string[] }> {
  const used: string[] = [];
  const pattern = placeholders(nonce);
  const revealed = await replaceStrings(value, async (text) => {
    const names = [...text.matchAll(pattern)].map((m) => m[1] ?? '');
    if (names.length === 0) return text;
    const values = await Promise.all(names.map(reveal));
    used.push(...values);
    let i = 0;
    return text.replace(pattern, () => values[i++] ?? '');
  });
  return { value: revealed, used: used.filter((s) => s.length > 0) };
}

/**
 * The value with every used secret replaced, deeply, in strings and keys (outputs, errors): raw in
 * any case, escaped, percent-, hex- and base64-encoded (see secret-forms.ts).
 * @example redact({ body: 'token=czNjcmV0' }, ['s3cret']) // { body: 'token=[redacted]' }
 */
export function redact<T>(value: T, used: readonly string[]): T {
  const matcher = secretMatcher(used);
  if (!matcher) return value;
  const text = JSON.stringify(value);
  // JSON escapes character by character and the forms include the escaped secret, so a clean
  // JSON text means clean strings and keys: the common case costs one scan.
  if (text === undefined || !matcher.test(text)) return value;
  const clean = (s: string) => matcher.replace(s, REDACTED);
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'string') return clean(v);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [clean(k), x]));
  });
}

/** The text with every used secret replaced, in the forms `redact` knows. */
export const redactText = (text: string, used: readonly string[]): string =>
  secretMatcher(used)?.replace(text, REDACTED) ?? text;
