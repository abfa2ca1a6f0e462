import { describe, expect, it } from 'vitest';
import type { FieldDef } from '../definition.js';
import { Params } from '../sql.js';
import { AppException } from '../../common/app-exception.js';
import { encodeCursor } from '../../common/paging.js';
import { afterCursorParts, cursorAfter, cursorValues, orderBySql, parseSort } from './paging.js';

/** Runs `fn` and returns the code of the AppException it throws. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppException) return err.code;
    throw err;
  }
  return undefined;
}

const def = { fields: [{ name: 'n', type: 'number' }, { name: 'tags', type: 'array' }] as FieldDef[] };

describe('sort and cursors', () => {
  it('defaults to createdAt and always ends with id', () => {
    expect(parseSort(def, undefined).map((k) => k.name)).toEqual(['createdAt', 'id']);
    expect(parseSort(def, '-n,id').map((k) => [k.name, k.desc])).toEqual([['n', true], ['id', false]]);
    expect(orderBySql(parseSort(def, '-n'))).toMatch(/DESC NULLS FIRST, d\.id ASC NULLS LAST$/);
  });

  it('refuses unknown, unsortable, repeated and too many keys', () => {
    for (const sort of ['x', 'tags', 'n,n', 'n,createdAt,updatedAt,ownerId,id', "n'", 'n,']) {
      expect(codeOf(() => parseSort(def, sort)), sort).toBe('INVALID_SORT');
    }
  });

  it('uses one row comparison when every key is non-null ascending', () => {
    const params = new Params();
    const keys = parseSort(def, undefined);
    expect(afterCursorParts(keys, ['2026-01-01T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'], params)).toEqual([
      '(d.created_at, d.id) > ($1::timestamptz, $2::uuid)',
    ]);
  });

  it('bounds the first key so an index serves deep pages, with NULL as the greatest value', () => {
    const n = `(CASE WHEN jsonb_typeof(d.data->'n') = 'number' THEN (d.data->>'n')::numeric END)`;
    const id = 'a0000000-0000-4000-8000-000000000000';
    expect(afterCursorParts(parseSort(def, '-n'), ['1.5', id], new Params())).toEqual([
      `(${n} <= $1::numeric AND (${n} < $1::numeric OR (${n} = $1::numeric AND ((d.id > $2::uuid)))))`,
    ]);
    // Ascending, the NULLs follow every value: a second, disjoint range.
    expect(afterCursorParts(parseSort(def, 'n'), ['1.5', id], new Params())).toEqual([
      `(${n} >= $1::numeric AND (${n} > $1::numeric OR (${n} = $1::numeric AND ((d.id > $2::uuid)))))`,
      `${n} IS NULL`,
    ]);
    expect(afterCursorParts(parseSort(def, '-n'), [null, id], new Params())).toEqual([`(${n} IS NULL AND ((d.id > $1::uuid)))`, `${n} IS NOT NULL`]);
    expect(afterCursorParts(parseSort(def, 'n'), [null, id], new Params())).toEqual([`(${n} IS NULL AND ((d.id > $1::uuid)))`]);
    expect(afterCursorParts(parseSort(def, '-createdAt'), ['2026-01-01 00:00:00+00', id], new Params())[0]).toMatch(/^\(d\.created_at <= \$1::timestamptz AND/);
  });

  it('round-trips cursors and rejects foreign or forged ones', () => {
    const keys = parseSort(def, 'n');
    const id = 'a0000000-0000-4000-8000-000000000000';
    const cursor = encodeCursor(cursorAfter(keys, { s0: '2', s1: id }));
    expect(cursorValues(keys, cursor)).toEqual(['2', id]);
    expect(() => cursorValues(parseSort(def, '-n'), cursor)).toThrow('belongs to a different sort order');
    expect(codeOf(() => cursorValues(parseSort(def, '-n'), cursor))).toBe('INVALID_CURSOR');
    expect(codeOf(() => cursorValues(keys, encodeCursor(cursorAfter(keys, { s0: '2; DROP', s1: id }))))).toBe('INVALID_CURSOR');
    expect(codeOf(() => cursorValues(keys, encodeCursor(cursorAfter(keys, { s0: '2', s1: null }))))).toBe('INVALID_CURSOR');
    expect(codeOf(() => cursorValues(keys, encodeCursor({ s: 'n,id', v: ['2'] })))).toBe('INVALID_CURSOR');
    expect(codeOf(() => cursorValues(keys, 'a'.repeat(20_000)))).toBe('INVALID_CURSOR');
  });
});
