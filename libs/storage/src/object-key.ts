import { InvalidObjectKeyError } from './storage-driver.js';

/**
 * Physical object keys (what drivers store under): the api generates them as
 * `<bucket>/<file id>[.upload]`, and every driver accepts only this narrow grammar:
 * `/`-separated segments of ASCII letters, digits, `.`, `_` and `-`, each starting with a
 * letter or digit. So `.`, `..`, `.tmp`, empty segments, a leading `/` (absolute path),
 * backslashes, `%` (encoded traversal), NUL and other control bytes can never reach a
 * path or an S3 request.
 */
const OBJECT_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const MAX_OBJECT_KEY_LENGTH = 512;

export function assertObjectKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_OBJECT_KEY_LENGTH) {
    throw new InvalidObjectKeyError('The object key is empty or too long');
  }
  for (const segment of key.split('/')) {
    if (!OBJECT_SEGMENT.test(segment)) throw new InvalidObjectKeyError('The object key is not allowed');
  }
}

/** Logical bucket names: 3-63 lower-case letters, digits and `-`, starting and ending with a letter or digit. */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export const MAX_FILE_KEY_BYTES = 1024;
const MAX_FILE_KEY_SEGMENT_BYTES = 255;
/** Letters, marks and digits of any script, space, and `! - _ . * ' ( ) + = @ , & $ ; ~`. */
const FILE_KEY_CHARS = /^[\p{L}\p{M}\p{N} !\-_.*'()+=@,&$;~]+$/u;

/**
 * Why a client-chosen file key (the `key` of a file inside its bucket, e.g.
 * `avatars/2026/me.png`) is refused, or undefined when it is fine. Keys are metadata only
 * (objects are stored under generated keys), but they are still held to a grammar that
 * cannot express traversal: no `.`/`..` or empty segments, no leading or trailing `/`, no
 * `\`, `%`, `:`, NUL or other control or invisible format characters, at most 1024 bytes.
 */
export function fileKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_FILE_KEY_BYTES) return `must be at most ${MAX_FILE_KEY_BYTES} bytes`;
  if (key.normalize('NFC') !== key) return 'must be in Unicode normal form C';
  if (key.startsWith('/')) return 'must not start with /';
  if (key.endsWith('/')) return 'must not end with /';
  for (const segment of key.split('/')) {
    if (segment.length === 0) return 'must not contain empty segments (//)';
    if (segment === '.' || segment === '..') return 'must not contain . or .. segments';
    if (Buffer.byteLength(segment, 'utf8') > MAX_FILE_KEY_SEGMENT_BYTES) {
      return `must have segments of at most ${MAX_FILE_KEY_SEGMENT_BYTES} bytes`;
    }
    if (!FILE_KEY_CHARS.test(segment)) {
      return "may contain only letters, digits, spaces and ! - _ . * ' ( ) + = @ , & $ ; ~ between / separators";
    }
    if (segment.trim() !== segment) return 'must not have segments starting or ending with a space';
  }
  return undefined;
}

/** A safe file name for Content-Disposition, from the last segment of a file key. */
export function fileNameOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
