import { AppError } from '../shared/errors.js';

/** Keyset pagination: an opaque cursor holding the sort key of the last item returned. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string') {
      const at = new Date(value[0]);
      if (!Number.isNaN(at.getTime())) return { at, id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError({ code: 'INVALID_CURSOR', message: 'cursor is not one this API returned', httpStatus: 400 });
}

/** Splits `limit + 1` fetched rows into a page and the cursor of the next page. */
export function page<T>(
  rows: T[],
  limit: number,
  key: (row: T) => { at: Date; id: string },
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last ? encodeCursor(key(last).at, key(last).id) : null;
  return { items, nextCursor };
}
