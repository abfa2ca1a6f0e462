import { describe, expect, it } from 'vitest';
import { contentDisposition, decideRange } from './content-headers.js';

describe('decideRange', () => {
  it.each([
    [undefined, { kind: 'full' }],
    ['bytes=0-9', { kind: 'partial', start: 0, end: 9 }],
    ['bytes=10-', { kind: 'partial', start: 10, end: 99 }],
    ['bytes=-10', { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-1000', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=50-1000', { kind: 'partial', start: 50, end: 99 }],
    ['bytes= 5 - 6 ', { kind: 'partial', start: 5, end: 6 }],
    ['bytes=99-99', { kind: 'partial', start: 99, end: 99 }],
    ['bytes=0-1,5-6', { kind: 'full' }],
    ['items=0-1', { kind: 'full' }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=100-200', { kind: 'unsatisfiable' }],
    ['bytes=5-2', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=-', { kind: 'unsatisfiable' }],
    ['bytes=a-b', { kind: 'unsatisfiable' }],
    ['bytes=1.5-2', { kind: 'unsatisfiable' }],
    ['garbage', { kind: 'unsatisfiable' }],
  ])('%j of 100 bytes → %j', (header, expected) => {
    expect(decideRange(header, 100)).toEqual(expected);
  });

  it('no range of an empty object is satisfiable', () => {
    expect(decideRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange(undefined, 0)).toEqual({ kind: 'full' });
  });
});

describe('contentDisposition', () => {
  it('gives a plain ASCII name as is, else an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('inline', 'a.png')).toBe('inline; filename=a.png');
    expect(contentDisposition('attachment', 'résumé (1).pdf')).toBe(
      `attachment; filename="r_sum_ (1).pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf`,
    );
  });

  it('never lets a quote, backslash or line break into the header', () => {
    const header = contentDisposition('attachment', 'a"b\\c\r\nSet-Cookie: x=1');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header.split('"')).toHaveLength(3);
    expect(header).not.toContain('\\');
  });
});
