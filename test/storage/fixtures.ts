import { createHash } from 'node:crypto';
import type { Response } from 'supertest';

/** A real 1x1 PNG (67 bytes). */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
/** The start of a Windows executable (detected as application/x-msdownload). */
export const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(510, 0x90)]);
export const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>');
export const SVG = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>');

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A supertest parser that keeps any response body as a Buffer. */
export function binary(res: Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

/** Keys that must never be accepted: traversal (plain and encoded), absolute, NUL, backslash, over-long. */
export const BAD_KEYS = [
  '../escape.txt',
  'a/../../escape.txt',
  'a/..',
  './a.txt',
  '/etc/passwd',
  '%2e%2e/escape.txt',
  '..%2fescape.txt',
  '%252e%252e%252fescape.txt',
  'a\\..\\escape.txt',
  'a\0b.txt',
  'a//b.txt',
  'a/',
  'C:\\Windows\\x',
  'a\u202Eb.txt',
  'x'.repeat(1025),
  `${'d/'.repeat(520)}x`,
];
