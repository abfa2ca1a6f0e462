import { describe, expect, it } from 'vitest';
import { compileLocation } from './compile-error.js';

// The shape of SWC's diagnostic as the api returns it in COMPILE_FAILED details.
const SWC = [
  '  x Expression expected',
  '   ,-[function.ts:3:1]',
  ' 1 | const a = 1;',
  ' 2 | export default async (event) => {',
  ' 3 |   return event.payload +;',
  '   :                         ^',
  ' 4 | };',
  '   `----',
].join('\n');

describe('compileLocation', () => {
  it('finds the line and the caret column of an SWC diagnostic', () => {
    expect(compileLocation(SWC)).toEqual({ line: 3, column: 25, message: 'Expression expected' });
  });

  it('works for two-digit line numbers', () => {
    const msg = ['  x Unexpected token', '    ,-[function.js:12:1]', ' 11 | ok();', ' 12 | let = ;', '    :     ^', '    `----'].join('\n');
    expect(compileLocation(msg)).toEqual({ line: 12, column: 5, message: 'Unexpected token' });
  });

  it('is undefined for a message without a location (e.g. V8 SyntaxError)', () => {
    expect(compileLocation("SyntaxError: Identifier 'a' has already been declared")).toBeUndefined();
  });
});
