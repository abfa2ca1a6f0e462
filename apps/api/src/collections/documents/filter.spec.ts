import { describe, expect, it } from 'vitest';
import type { FieldDef } from '../definition.js';
import { Params } from '../sql.js';
import { compileFilter, FilterError, parseFilter } from './filter.js';

const fields: FieldDef[] = [
  { name: 'title', type: 'string' },
  { name: 'n', type: 'integer' },
  { name: 'ok', type: 'boolean' },
  { name: 'at', type: 'date' },
  { name: 'ref', type: 'reference', collection: 'x' },
  { name: 'tags', type: 'array' },
  { name: 'meta', type: 'json' },
];
const compile = (filter: unknown) => {
  const params = new Params();
  const sql = compileFilter({ fields }, filter as Record<string, unknown>, params);
  return { sql, values: params.values };
};
const error = (filter: unknown) => {
  try {
    compile(filter);
  } catch (err) {
    if (err instanceof FilterError) return { path: err.path, message: err.message };
    throw err;
  }
  throw new Error('no error');
};

describe('filter compiler', () => {
  it('binds every value and writes only validated names', () => {
    const { sql, values } = compile({ title: "x' OR 1=1", n: { $gte: 3, $in: [1, 2] } });
    expect(sql).toBe(
      `(d.data->>'title') = $1::text AND (CASE WHEN jsonb_typeof(d.data->'n') = 'number' THEN (d.data->>'n')::numeric END) >= $2::numeric AND (CASE WHEN jsonb_typeof(d.data->'n') = 'number' THEN (d.data->>'n')::numeric END) = ANY($3::numeric[])`,
    );
    expect(values).toEqual(["x' OR 1=1", '3', ['1', '2']]);
  });

  it('normalises dates and uuids, and maps system fields to columns', () => {
    const { sql, values } = compile({ at: { $lt: '2026-01-01' }, ref: 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA', createdAt: { $gt: '2026-01-01T01:00:00+01:00' } });
    expect(sql).toContain('d.created_at > $3::timestamptz');
    expect(values).toEqual(['2026-01-01T00:00:00.000Z', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '2026-01-01T00:00:00.000Z']);
  });

  it('uses strpos and @> for $contains, never LIKE', () => {
    expect(compile({ title: { $contains: '%_' } }).sql).toBe(`strpos((d.data->>'title'), $1::text) > 0`);
    expect(compile({ tags: { $contains: 'a' } })).toEqual({ sql: `(d.data->'tags') @> $1::jsonb`, values: ['["a"]'] });
  });

  it('treats missing values as in MongoDB for $ne, $nin and $not', () => {
    expect(compile({ title: { $ne: 'a' } }).sql).toContain('IS DISTINCT FROM');
    expect(compile({ n: { $nin: [1] } }).sql).toMatch(/IS NULL OR NOT/);
    expect(compile({ $not: { n: 1 } }).sql).toMatch(/^NOT COALESCE\(/);
  });

  it('compiles dot paths into json fields with the path bound', () => {
    const { sql, values } = compile({ 'meta.a.b': { $gt: 2 } });
    expect(sql).toContain('(d.data #> $1::text[])');
    expect(values).toEqual([['meta', 'a', 'b'], '2']);
  });

  it('rejects unknown fields, bad names, wrong types and unknown operators with a path', () => {
    expect(error({ nope: 1 })).toEqual({ path: 'nope', message: '"nope" is not a field of this collection' });
    expect(error({ "ti'tle": 1 }).message).toBe('is not a valid field name');
    expect(error({ 'title.x': 1 }).message).toMatch(/json fields/);
    expect(error({ n: 'x' })).toEqual({ path: 'n', message: 'must be a number' });
    expect(error({ n: { $regex: 'x' } })).toEqual({ path: 'n.$regex', message: 'is not a known operator' });
    expect(error({ ok: { $gt: true } }).message).toMatch(/by order/);
    expect(error({ $or: [{ n: 1 }, { n: 'x' }] }).path).toBe('$or.1.n');
    expect(error({ constructor: 1 }).message).toMatch(/not allowed/);
  });

  it('parses only JSON objects within the size limit', () => {
    expect(() => parseFilter('{')).toThrow('is not valid JSON');
    expect(() => parseFilter('[]')).toThrow('must be a JSON object');
    expect(() => parseFilter(`{"title":"${'x'.repeat(9000)}"}`)).toThrow(/at most/);
    expect(() => parseFilter('{"a":{"__proto__":1}}')).toThrow(/not allowed/);
  });
});
