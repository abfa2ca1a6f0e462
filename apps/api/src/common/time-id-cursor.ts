import { isStorableDate } from './safe-json.js';

/**
 * The cursor position of a list in (createdAt, id) order (email messages, admin users): what
 * `pageOf` encodes after the last row, and the `decodeCursor` parser that reads it back.
 */
export interface TimeIdPosition {
  createdAt: Date;
  id: string;
}

export function timeIdCursor(row: TimeIdPosition): { t: string; i: string } {
  return { t: row.createdAt.toISOString(), i: row.id };
}

export function timeIdPosition(value: unknown): TimeIdPosition | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { t, i } = value as Record<string, unknown>;
  if (typeof t !== 'string' || typeof i !== 'string' || !/^[0-9a-f-]{36}$/.test(i)) return undefined;
  const createdAt = new Date(t);
  return isStorableDate(createdAt) ? { createdAt, id: i } : undefined;
}
