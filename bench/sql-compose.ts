/**
 * Micro-benchmark (issue 13, docs/decisions.md "Data API on the one data layer"): what composing a document list query costs
 * with the `Params` binder (string templates) and with Kysely's `sql` template compiled by
 * `.compile()`. Only query building is timed, nothing runs against Postgres. Run:
 *   npx esbuild bench/sql-compose.ts --bundle --platform=node --format=esm \
 *     --packages=external --conditions=source --outfile=node_modules/.cache/sql-compose.mjs \
 *     && node node_modules/.cache/sql-compose.mjs
 */
import { sql, type RawBuilder } from 'kysely';
import type pg from 'pg';
import { createDb } from '../libs/database/src/db.js';
import type { Caller } from '../apps/api/src/auth/caller.js';
import type { CollectionDef, FieldDef } from '../apps/api/src/collections/definition.js';
import { buildListQuery } from '../apps/api/src/collections/documents/documents.repository.js';
import { parseSort } from '../apps/api/src/collections/documents/paging.js';
import { fieldLiteral, Params, tableOf } from '../apps/api/src/collections/sql.js';

const fields: FieldDef[] = [
  { name: 'title', type: 'string' },
  { name: 'n', type: 'number' },
  { name: 'status', type: 'string' },
];
const def = {
  name: 'posts',
  fields,
  indexes: [],
  rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
  createdAt: new Date(),
  updatedAt: new Date(),
} as unknown as CollectionDef;
const caller: Caller = { kind: 'user', userId: '0b9a1f2e-4c5d-4e6f-8a7b-9c0d1e2f3a4b', email: 'a@b.c', roles: ['editor'], sessionId: 's' };
const filter = { n: { $gte: 5 }, status: { $in: ['draft', 'live'] } };
const sort = parseSort(def, '-n');
const after = ['42', '7c9e6679-7425-40de-944b-e07fc1f90ae7'];

// The same query as buildListQuery writes for these inputs, composed by hand both ways.
const COLUMNS = 'd.id, d.data, d.owner_id, d.acl, d.version, d.created_at, d.updated_at';
const numText = (key: string) => `(CASE WHEN jsonb_typeof(d.data->${key}) = 'number' THEN (d.data->>${key})::numeric END)`;

function withParams(): { text: string; values: unknown[] } {
  const params = new Params();
  const owner = `d.owner_id = ${params.add(caller.kind === 'user' ? caller.userId : null, 'uuid')}`;
  const acl = `(d.acl IS NULL OR NOT (d.acl ? 'read') OR d.owner_id = ${params.add((caller as { userId: string }).userId, 'uuid')} OR (d.acl->'read') ?| ${params.add(['*', 'user:x', 'role:editor'], 'text[]')})`;
  const n = numText(fieldLiteral('n'));
  const status = `(d.data->>${fieldLiteral('status')})`;
  const where = [owner, acl, `(${n} >= ${params.add(5, 'numeric')} AND ${status} = ANY(${params.add(['draft', 'live'], 'text[]')}))`];
  const p0 = params.add(after[0], 'numeric');
  const p1 = params.add(after[1], 'uuid');
  where.push(`(${n} <= ${p0} AND (${n} < ${p0} OR (${n} = ${p0} AND ((d.id > ${p1})))))`);
  const limit = params.add(21, 'int');
  const text =
    `SELECT ${COLUMNS}, ${n}::text AS s0, d.id::text AS s1 FROM ${tableOf(def.name)} d WHERE ${where.join(' AND ')}` +
    ` ORDER BY ${n} DESC NULLS FIRST, d.id ASC NULLS LAST LIMIT ${limit}`;
  return { text, values: params.values };
}

const db = createDb({} as pg.Pool); // compile() never connects
const columns = sql.join(['id', 'data', 'owner_id', 'acl', 'version', 'created_at', 'updated_at'].map((c) => sql.ref(`d.${c}`)));
const numK = (name: string): RawBuilder<unknown> =>
  sql`(CASE WHEN jsonb_typeof(${sql.ref('d.data')}->${sql.lit(name)}) = 'number' THEN (${sql.ref('d.data')}->>${sql.lit(name)})::numeric END)`;

function withKysely(): { text: string; values: readonly unknown[] } {
  const userId = (caller as { userId: string }).userId;
  const owner = sql`${sql.ref('d.owner_id')} = ${userId}::uuid`;
  const acl = sql`(${sql.ref('d.acl')} IS NULL OR NOT (${sql.ref('d.acl')} ? 'read') OR ${sql.ref('d.owner_id')} = ${userId}::uuid OR (${sql.ref('d.acl')}->'read') ?| ${['*', 'user:x', 'role:editor']}::text[])`;
  const n = numK('n');
  const status = sql`(${sql.ref('d.data')}->>${sql.lit('status')})`;
  const where = [owner, acl, sql`(${n} >= ${5}::numeric AND ${status} = ANY(${['draft', 'live']}::text[]))`];
  where.push(sql`(${n} <= ${after[0]}::numeric AND (${n} < ${after[0]}::numeric OR (${n} = ${after[0]}::numeric AND ((${sql.ref('d.id')} > ${after[1]}::uuid)))))`);
  const query = sql`SELECT ${columns}, ${n}::text AS s0, ${sql.ref('d.id')}::text AS s1 FROM ${sql.table(`data.${def.name}`)} d WHERE ${sql.join(where, sql` AND `)} ORDER BY ${n} DESC NULLS FIRST, ${sql.ref('d.id')} ASC NULLS LAST LIMIT ${21}::int`;
  const compiled = query.compile(db);
  return { text: compiled.sql, values: compiled.parameters };
}

/** A get by id under the same rule (what findReadable writes). */
const docId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
function getWithParams(): { text: string; values: unknown[] } {
  const params = new Params();
  const userId = (caller as { userId: string }).userId;
  const allowed = `d.owner_id = ${params.add(userId, 'uuid')} AND (d.acl IS NULL OR NOT (d.acl ? 'read') OR d.owner_id = ${params.add(userId, 'uuid')} OR (d.acl->'read') ?| ${params.add(['*', 'user:x', 'role:editor'], 'text[]')})`;
  return { text: `SELECT ${COLUMNS} FROM ${tableOf(def.name)} d WHERE d.id = ${params.add(docId, 'uuid')} AND ${allowed}`, values: params.values };
}

function getWithKysely(): { text: string; values: readonly unknown[] } {
  const userId = (caller as { userId: string }).userId;
  const allowed = sql`${sql.ref('d.owner_id')} = ${userId}::uuid AND (${sql.ref('d.acl')} IS NULL OR NOT (${sql.ref('d.acl')} ? 'read') OR ${sql.ref('d.owner_id')} = ${userId}::uuid OR (${sql.ref('d.acl')}->'read') ?| ${['*', 'user:x', 'role:editor']}::text[])`;
  const compiled = sql`SELECT ${columns} FROM ${sql.table(`data.${def.name}`)} d WHERE ${sql.ref('d.id')} = ${docId}::uuid AND ${allowed}`.compile(db);
  return { text: compiled.sql, values: compiled.parameters };
}

function real(): { text: string; values: unknown[] } {
  return buildListQuery(def, caller, { filter, sort, after, limit: 21 })!;
}

function time(name: string, build: () => { text: string }, iterations: number): number {
  let sink = 0;
  for (let i = 0; i < 2_000; i++) sink += build().text.length; // warm up (JIT)
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += build().text.length;
    runs.push(Number(process.hrtime.bigint() - start) / iterations / 1000);
  }
  runs.sort((a, b) => a - b);
  // The machine is shared: the fastest run is the least disturbed one.
  const [fastest, , median] = runs as [number, number, number];
  console.log(`${name.padEnd(44)} fastest ${fastest.toFixed(2)} µs, median ${median.toFixed(2)} µs per query${sink > 0 ? '' : '!'}`);
  return fastest;
}

const iterations = Number(process.argv[2] ?? 5_000);
console.log(`${iterations} iterations x 5 runs, node ${process.version}\n`);
for (const [name, build] of [['Params, hand-composed', withParams], ['Kysely sql template + compile()', withKysely]] as const) {
  console.log(`-- ${name}:\n${build().text}\n${JSON.stringify(build().values)}\n`);
}
const a = time('buildListQuery (Params, the real builder)', real, iterations);
const b = time('Params, hand-composed', withParams, iterations);
const c = time('Kysely sql template + compile()', withKysely, iterations);
const g1 = time('get: Params', getWithParams, iterations);
const g2 = time('get: Kysely sql template + compile()', getWithKysely, iterations);
console.log(`\nfastest runs: Kysely minus Params (same query) ${(c - b).toFixed(2)} µs per query; the real builder ${a.toFixed(2)} µs; get: Kysely minus Params ${(g2 - g1).toFixed(2)} µs`);
