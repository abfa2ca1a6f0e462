/** The answer to a `Range` header for an object of `size` bytes (RFC 9110, single byte ranges). */
export type RangeDecision = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const SPEC = /^(\d*)-(\d*)$/;

/**
 * - no header, another unit than `bytes`, or several ranges: the whole object (a server may
 *   ignore Range; multipart/byteranges is not offered);
 * - `bytes=a-b`, `bytes=a-`, `bytes=-n`: that range, clipped to the object;
 * - a malformed byte range (`bytes=x`, `bytes=5-2`, `bytes=-0`) or one starting at or past
 *   the end: unsatisfiable (416 with `Content-Range: bytes *\/size`).
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const eq = header.indexOf('=');
  if (eq < 0) return { kind: 'unsatisfiable' };
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'full' };
  const spec = header.slice(eq + 1).replace(/\s+/g, '');
  if (spec.includes(',')) return { kind: 'full' };
  const match = SPEC.exec(spec);
  if (!match) return { kind: 'unsatisfiable' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'unsatisfiable' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return { kind: 'unsatisfiable' };
  if (last === '') return { kind: 'partial', start, end: size - 1 };
  const end = Number(last);
  if (end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/**
 * `inline` or `attachment` with the file name twice (RFC 6266): an ASCII fallback in
 * `filename`, the exact UTF-8 name in `filename*`. No quote, backslash or control
 * character ever reaches the header.
 */
export function contentDisposition(kind: 'inline' | 'attachment', fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'file';
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** Whether an `If-None-Match` header matches this strong ETag (or is `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim().replace(/^W\//, '');
    return t === '*' || t === etag;
  });
}

/**
 * Whether a resource last modified at `lastModified` (an HTTP date) is unchanged since the
 * `If-Modified-Since` date; false when either is missing or unparsable. HTTP dates have
 * whole seconds, so the comparison is in seconds.
 */
export function notModifiedSince(lastModified: string | undefined, ifModifiedSince: string | undefined): boolean {
  if (lastModified === undefined || ifModifiedSince === undefined) return false;
  const modified = Date.parse(lastModified);
  const since = Date.parse(ifModifiedSince);
  if (Number.isNaN(modified) || Number.isNaN(since)) return false;
  return Math.floor(modified / 1000) <= Math.floor(since / 1000);
}
