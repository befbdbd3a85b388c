/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** One segment of a JSON pointer (RFC 6901), escaped. */
export const escapePointer = (segment: string | number): string =>
  String(segment).replace(/~/g, '~0').replace(/\//g, '~1');

/** The JSON pointer of a path such as a zod issue's: `['steps', 0, 'a/b']` → `/steps/0/a~1b`. */
export const jsonPointer = (path: readonly PropertyKey[]): string =>
  path.map((segment) => `/${escapePointer(String(segment))}`).join('');

/** The value with every string in it (deeply; keys stay) replaced by what `replace` makes of it, all at once. */
export async function replaceStrings(value: unknown, replace: (text: string) => Promise<unknown>): Promise<unknown> {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return Promise.all(value.map((v) => replaceStrings(v, replace)));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await replaceStrings(v, replace)] as const)),
    );
  return value;
}
