import { describe, expect, it } from 'vitest';
import type { FieldDef } from './definition.js';
import { findUnsafeJson } from '../common/safe-json.js';
import { checkWrite, normaliseDate } from './values.js';

describe('document values', () => {
  it('normalises ISO dates to UTC milliseconds and refuses the rest', () => {
    expect(normaliseDate('2026-03-01')).toBe('2026-03-01T00:00:00.000Z');
    expect(normaliseDate('2026-03-01T10:00:00.5+02:00')).toBe('2026-03-01T08:00:00.500Z');
    for (const bad of ['2026-02-30', '2026-03-01T10:00:00', 'yesterday', '12/01/2026', 20260301, '+275760-09-13T00:00:00Z']) {
      expect(normaliseDate(bad)).toBeUndefined();
    }
  });

  const fields: FieldDef[] = [
    { name: 'a', type: 'string', required: true },
    { name: 'b', type: 'integer', default: 7 },
    { name: 'c', type: 'array', items: 'date' },
  ];

  it('applies defaults and required on create and replace, not on patch', () => {
    expect(checkWrite({ fields }, { a: 'x', c: ['2026-01-01'] }, 'create')).toEqual({
      ok: true,
      value: { set: { a: 'x', b: 7, c: ['2026-01-01T00:00:00.000Z'] }, unset: [] },
    });
    expect(checkWrite({ fields }, { b: 1 }, 'replace')).toEqual({ ok: false, details: [{ path: 'a', message: 'is required' }] });
    expect(checkWrite({ fields }, { b: null }, 'patch')).toEqual({ ok: true, value: { set: {}, unset: ['b'] } });
    expect(checkWrite({ fields }, { a: null }, 'patch')).toEqual({ ok: false, details: [{ path: 'a', message: 'is required' }] });
  });

  it('takes acl apart from the fields', () => {
    const res = checkWrite({ fields }, { a: 'x', acl: { read: ['*', 'user:AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA'] } }, 'create');
    expect(res.ok && res.value.acl).toEqual({ read: ['*', 'user:aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'] });
  });

  it('walks very deep JSON without recursion and stops at the depth limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnsafeJson(deep)?.message).toMatch(/deeper than 32/);
    expect(findUnsafeJson({ a: [{ b: { prototype: 1 } }] })).toEqual({ path: ['a', 0, 'b', 'prototype'], message: 'the key "prototype" is not allowed' });
  });
});
