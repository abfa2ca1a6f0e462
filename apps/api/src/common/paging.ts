import { AppException } from './app-exception.js';

/**
 * The one cursor codec and last-page rule of every keyset-paged list (documents, files,
 * function runs, email messages, admin lists). A cursor is base64url JSON of an object the
 * list chose (e.g. the sort values of the last row); clients treat it as opaque. A list asks
 * for `limit + 1` rows: the extra row only says that another page follows.
 */

export const MAX_CURSOR_CHARS = 12_000;

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The 400 every list answers for a cursor it did not write (code INVALID_CURSOR). */
export function invalidCursor(why = 'is not a cursor from this list'): AppException {
  return new AppException(400, 'INVALID_CURSOR', `The cursor is not valid: ${why}`, [{ path: 'cursor', message: why }]);
}

/**
 * Decodes a cursor and hands its JSON to `parse`, which returns the list's position or
 * undefined when the shape is wrong. Anything malformed becomes `invalidCursor()`; `parse`
 * may also throw its own AppException (e.g. "belongs to a different sort order").
 */
export function decodeCursor<T>(cursor: string, parse: (value: unknown) => T | undefined): T {
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const position = parse(value);
  if (position === undefined) throw invalidCursor();
  return position;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A page from `rows` fetched with LIMIT `limit + 1`: the cursor points after the last item kept. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => unknown): Page<T> {
  const items = rows.length > limit ? rows.slice(0, limit) : rows;
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
