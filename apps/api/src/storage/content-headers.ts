import { create as createDisposition } from 'content-disposition';
import { parse as parseRange } from 'range-parser';

/** The answer to a `Range` header for an object of `size` bytes (RFC 9110, single byte ranges). */
export type RangeDecision = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * Parsed by range-parser:
 * - no header, another unit than `bytes`, or several ranges: the whole object (a server may
 *   ignore Range; multipart/byteranges is not offered);
 * - `bytes=a-b`, `bytes=a-`, `bytes=-n`: that range, clipped to the object;
 * - a malformed byte range (`bytes=x`, `bytes=5-2`, `bytes=-0`) or one starting at or past
 *   the end: unsatisfiable (416 with `Content-Range: bytes *\/size`).
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const result = parseRange(size, header.replace(/\s+/g, ''));
  if (result.type !== 'bytes') return result.type === '' ? { kind: 'unsatisfiable' } : { kind: 'full' };
  if (result.ranges.length > 1) return { kind: 'full' };
  const range = result.ranges[0];
  if (result.code !== 0 || range === undefined) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start: range.start, end: range.end };
}

/**
 * `inline` or `attachment` with the file name (RFC 6266, by content-disposition): the name
 * itself when it is plain ASCII, else an ASCII fallback in `filename` (quotes, backslashes,
 * `%` and anything outside printable ASCII as `_`) and the exact UTF-8 name in `filename*`.
 */
export function contentDisposition(kind: 'inline' | 'attachment', fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'file';
  return createDisposition(fileName || 'file', { type: kind, fallback });
}
