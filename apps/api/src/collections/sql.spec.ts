import { describe, expect, it } from 'vitest';
import { ident, tableOf, UnsafeIdentifierError } from './sql.js';

describe('identifier quoting', () => {
  it('quotes checked identifiers and collection tables', () => {
    expect(ident('created_at')).toBe('"created_at"');
    expect(ident('ix-0123456789abcdef01234567')).toBe('"ix-0123456789abcdef01234567"');
    expect(tableOf('posts')).toBe('"data"."posts"');
  });

  it('refuses anything that could leave the quotes', () => {
    for (const name of ['a"b', 'a b', '', '1a', 'x'.repeat(64), 'a;b']) expect(() => ident(name), name).toThrow(UnsafeIdentifierError);
    for (const name of ['posts"; DROP TABLE x; --', 'a-b', '_x']) expect(() => tableOf(name), name).toThrow(UnsafeIdentifierError);
  });
});
