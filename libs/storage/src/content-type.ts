import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';

/** How many leading bytes content sniffing looks at (file-type's own sample size). */
export const SNIFF_BYTES = 4100;

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** `Image/PNG; charset=x` → `image/png`; undefined for anything that is not a media type. */
export function normalizeMimeType(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bare = value.split(';', 1)[0]!.trim().toLowerCase();
  return MIME.test(bare) ? bare : undefined;
}

/** Types a browser may execute or render as a document: never served inline. */
export function isActiveContentType(type: string): boolean {
  return (
    type === 'text/html' ||
    type === 'application/xhtml+xml' ||
    type === 'image/svg+xml' ||
    type === 'text/xml' ||
    type === 'application/xml' ||
    type === 'text/xsl' ||
    type.endsWith('+xml') ||
    type.includes('javascript') ||
    type.includes('ecmascript') ||
    type === 'application/x-shockwave-flash' ||
    type === 'text/vtt' // can carry markup interpreted by some players
  );
}

/**
 * The only types ever served inline: media a browser shows as media and never runs, plus
 * text/plain (with `X-Content-Type-Options: nosniff`). Every one but text/plain is a type
 * file-type recognises by signature, and detectContentType never keeps a claim of such a
 * type (below): a stored type from this list was positively identified from the bytes.
 * Everything else (HTML, SVG, XML, PDF, `multipart/x-mixed-replace`, `image/x-...` claims
 * file-type cannot confirm, unknown types) is served as an attachment.
 */
const SAFE_INLINE_TYPES: ReadonlySet<string> = new Set([
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'image/apng', 'image/x-icon',
  'audio/mpeg', 'audio/ogg', 'audio/wav', 'audio/flac', 'audio/aac', 'audio/mp4', 'audio/x-m4a',
  'video/mp4', 'video/webm', 'video/ogg', 'video/quicktime',
]);

/** Whether a stored content type may be served `inline` (see SAFE_INLINE_TYPES); otherwise `attachment`. */
export function isSafeInlineType(type: string): boolean {
  return type === 'text/plain' || (SAFE_INLINE_TYPES.has(type) && supportedMimeTypes.has(type));
}

/** Types whose bytes are text (so a text body may carry them as declared). */
function isTextualType(type: string): boolean {
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type.includes('javascript') ||
    type.includes('ecmascript') ||
    ['application/yaml', 'application/x-yaml', 'application/toml', 'application/sql', 'application/graphql', 'application/x-sh', 'application/x-ndjson'].includes(type)
  );
}

const HTML_START =
  /^<(!doctype html|html|head|body|script|iframe|object|embed|style|title|meta|link|base|form|img|div|a|b|p|br|h1|table|font|!--)[\s/>]/i;

/** Valid UTF-8 without NUL bytes (the sample may end inside a multi-byte character). */
function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let cut = 0; cut <= Math.min(3, head.length); cut++) {
    try {
      decoder.decode(head.subarray(0, head.length - cut));
      return true;
    } catch {
      // try again without a possibly truncated last character
    }
  }
  return false;
}

/**
 * The content type of a file, decided from its leading bytes (`head`, up to SNIFF_BYTES),
 * with the client's claim used only where the bytes cannot tell:
 * - a binary signature file-type knows (PNG, PDF, ZIP, ...) wins over any claim;
 * - text that starts like markup is HTML, SVG or XML whatever the claim says;
 * - other text keeps a textual claim (JSON, CSV, JS, ...) or becomes text/plain;
 * - unknown binary keeps a claim only if file-type could not have recognised it, else
 *   becomes application/octet-stream. So a claim can never turn bytes of one known kind
 *   into another (an .exe announced as image/png is stored as what it is).
 */
export async function detectContentType(head: Buffer, claimedRaw: string | undefined): Promise<string> {
  const claimed = normalizeMimeType(claimedRaw);
  const detected = head.length > 0 ? await fileTypeFromBuffer(head) : undefined;
  if (detected && detected.mime !== 'application/xml') return detected.mime;

  if (looksLikeText(head)) {
    const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
    if (text.startsWith('<')) {
      const lower = text.slice(0, 2048).toLowerCase();
      if (/<svg[\s>]/.test(lower)) return 'image/svg+xml';
      if (lower.startsWith('<?xml')) return claimed && (claimed.endsWith('+xml') || claimed === 'text/xml') ? claimed : 'application/xml';
      if (HTML_START.test(text)) return 'text/html';
    }
    if (claimed && isTextualType(claimed)) return claimed;
    return 'text/plain';
  }

  if (detected) return detected.mime; // application/xml in a non-UTF-8 encoding
  if (claimed && !supportedMimeTypes.has(claimed) && !isTextualType(claimed) && !isActiveContentType(claimed)) {
    return claimed;
  }
  return 'application/octet-stream';
}

/** Whether `type` matches one of the bucket's patterns (`image/png`, `image/*`, `*\/*`); an empty list allows all. */
export function mimeTypeAllowed(type: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const major = type.split('/', 1)[0];
  return patterns.some((p) => p === '*/*' || p === type || (p.endsWith('/*') && p.slice(0, -2) === major));
}
