import { describe, expect, it } from 'vitest';
import { detectContentType, isActiveContentType, mimeTypeAllowed, normalizeMimeType } from './content-type.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n');
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]);

describe('detectContentType', () => {
  it('a known binary signature wins over any claim', async () => {
    expect(await detectContentType(PNG, 'application/octet-stream')).toBe('image/png');
    expect(await detectContentType(PNG, 'text/html')).toBe('image/png');
    expect(await detectContentType(PDF, 'image/png')).toBe('application/pdf');
    expect(await detectContentType(EXE, 'image/png')).toBe('application/x-msdownload');
  });

  it('markup is HTML, SVG or XML whatever the claim', async () => {
    expect(await detectContentType(Buffer.from('  <!DOCTYPE html><p>x'), 'text/plain')).toBe('text/html');
    expect(await detectContentType(Buffer.from('\uFEFF<script>alert(1)</script>'), 'image/png')).toBe('text/html');
    expect(await detectContentType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/png')).toBe('image/svg+xml');
    expect(await detectContentType(Buffer.from('<?xml version="1.0"?><svg></svg>'), 'text/plain')).toBe('image/svg+xml');
    expect(await detectContentType(Buffer.from('<?xml version="1.0"?><feed/>'), 'text/plain')).toBe('application/xml');
    expect(await detectContentType(Buffer.from('<?xml version="1.0"?><feed/>'), 'application/atom+xml')).toBe('application/atom+xml');
  });

  it('other text keeps a textual claim, or becomes text/plain', async () => {
    expect(await detectContentType(Buffer.from('{"a":1}'), 'application/json; charset=utf-8')).toBe('application/json');
    expect(await detectContentType(Buffer.from('a,b\n1,2\n'), 'text/csv')).toBe('text/csv');
    expect(await detectContentType(Buffer.from('export default 1'), 'text/javascript')).toBe('text/javascript');
    expect(await detectContentType(Buffer.from('just words'), 'image/png')).toBe('text/plain');
    expect(await detectContentType(Buffer.from('just words'), undefined)).toBe('text/plain');
    expect(await detectContentType(Buffer.from('ünïcødé'), 'text/plain')).toBe('text/plain');
    // A sample cut inside a multi-byte character is still text.
    expect(await detectContentType(Buffer.from('aé').subarray(0, 2), 'text/plain')).toBe('text/plain');
  });

  it('unknown binary keeps only a claim that detection could not have confirmed', async () => {
    const blob = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x00, 0x10, 0x20]);
    expect(await detectContentType(blob, 'application/vnd.example.thing')).toBe('application/vnd.example.thing');
    expect(await detectContentType(blob, 'image/png')).toBe('application/octet-stream');
    expect(await detectContentType(blob, 'text/html')).toBe('application/octet-stream');
    expect(await detectContentType(blob, 'not a type')).toBe('application/octet-stream');
  });

  it('an empty file is text/plain unless a textual type is claimed', async () => {
    expect(await detectContentType(Buffer.alloc(0), 'image/png')).toBe('text/plain');
    expect(await detectContentType(Buffer.alloc(0), 'application/json')).toBe('application/json');
  });
});

describe('mime helpers', () => {
  it('normalizes media types and rejects what is not one', () => {
    expect(normalizeMimeType('Image/PNG; charset=binary')).toBe('image/png');
    expect(normalizeMimeType('text/html\r\nx-evil: 1')).toBeUndefined();
    expect(normalizeMimeType('')).toBeUndefined();
  });

  it('matches bucket patterns', () => {
    expect(mimeTypeAllowed('image/png', [])).toBe(true);
    expect(mimeTypeAllowed('image/png', ['image/*'])).toBe(true);
    expect(mimeTypeAllowed('image/png', ['*/*'])).toBe(true);
    expect(mimeTypeAllowed('image/svg+xml', ['image/png', 'image/jpeg'])).toBe(false);
    expect(mimeTypeAllowed('imagex/png', ['image/*'])).toBe(false);
  });

  it('knows the active types', () => {
    for (const t of ['text/html', 'image/svg+xml', 'application/xml', 'application/atom+xml', 'text/javascript', 'application/javascript', 'application/xhtml+xml']) {
      expect(isActiveContentType(t), t).toBe(true);
    }
    for (const t of ['image/png', 'text/plain', 'application/json', 'application/pdf', 'video/mp4']) {
      expect(isActiveContentType(t), t).toBe(false);
    }
  });
});
