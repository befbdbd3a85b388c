/** What `secretPlaceholder` (definitions/expressions.ts) makes of `$secret('name')`. */
const SECRET_PLACEHOLDER = /\u001fsecret:([^\u001f]*)\u001f/g;

const REDACTED = '[redacted]';

/**
 * Swaps `$secret('name')` placeholders in an evaluated config for the secrets' values (deeply),
 * and returns the values used so they can be redacted from whatever leaves the activity.
 */
export async function revealSecrets(value: unknown, reveal: (name: string) => Promise<string>): Promise<{ value: unknown; used: string[] }> {
  const used: string[] = [];
  const walk = async (v: unknown): Promise<unknown> => {
    if (typeof v === 'string') {
      const names = [...v.matchAll(SECRET_PLACEHOLDER)].map((m) => m[1] ?? '');
      if (names.length === 0) return v;
      const values = await Promise.all(names.map(reveal));
      used.push(...values);
      let i = 0;
      return v.replace(SECRET_PLACEHOLDER, () => values[i++] ?? '');
    }
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await walk(x)] as const)));
    return v;
  };
  return { value: await walk(value), used: used.filter((s) => s.length > 0) };
}

/** The value with every occurrence of a used secret replaced, deeply (outputs, errors). */
export function redact<T>(value: T, used: string[]): T {
  if (used.length === 0) return value;
  const text = JSON.stringify(value);
  if (text === undefined) return value;
  const cleaned = used.reduce((t, secret) => t.split(JSON.stringify(secret).slice(1, -1)).join(REDACTED), text);
  return cleaned === text ? value : JSON.parse(cleaned);
}

export const redactText = (text: string, used: string[]): string => used.reduce((t, secret) => t.split(secret).join(REDACTED), text);
