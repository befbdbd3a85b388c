import { isDeepStrictEqual } from 'node:util';

/** One field that differs: `before` absent means added, `after` absent means removed. */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields in which `after` differs from `before`, as JSON pointers (key order does not count). */
export function fieldDiff(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => fieldDiff(before[k], after[k], `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, i) => fieldDiff(before[i], after[i], `${path}/${i}`)).flat();
  }
  return [
    {
      path: path || '/',
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after }),
    },
  ];
}

const brief = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
};

/** A change as a line: `~ /steps/1/config/url: "a" → "b"`, `+ /x: 1`, `- /y: 2`. */
export function describeChange(c: FieldChange): string {
  if (!('before' in c)) return `+ ${c.path}: ${brief(c.after)}`;
  if (!('after' in c)) return `- ${c.path}: ${brief(c.before)}`;
  return `~ ${c.path}: ${brief(c.before)} → ${brief(c.after)}`;
}
