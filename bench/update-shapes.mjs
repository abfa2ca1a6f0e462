// The SQL shapes a document PATCH can take, measured without HTTP (docs/decisions.md, "PATCH in
// one statement"): the repository's own statements from the built tree, on a table made by the
// api's collection DDL, a pool of 10 (the api's), CONCURRENCY callers each patching one field
// of a random document of 2000 (anonymous caller, public rules, no function subscribed):
// - lock: BEGIN, SELECT … FOR UPDATE, UPDATE + guarded event CTE, COMMIT (4 round trips; before)
// - optimistic: plain SELECT, then UPDATE + event … WHERE version = seen (2 round trips; a retry when it lost)
// - one: DocumentsRepository.patchInOne (1 round trip: SELECT … FOR UPDATE with the checks, UPDATE …
//   FROM it with the merge, event)
// - one-snapshot: the same statement reading the row without the lock and updating it only if
//   its version is unchanged (the lock shape when it lost a race)
// Then DELETE (service caller, documents of their own): delete-lock (BEGIN, SELECT … FOR UPDATE,
// DELETE, guarded event INSERT, COMMIT: 5 round trips; before) vs delete-one (deleteInOne).
// Reports ops/s and CPU per op of this process (the client: node-pg) and of the pool's Postgres
// backends (/proc), which on this shared 2-core machine is what a shape costs. Shapes alternate.
//
//   npm run build && node bench/update-shapes.mjs      (BENCH_DURATION=5 ROUNDS=3 CONCURRENCY=50)
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { DocumentsRepository } from '../dist/apps/api/src/collections/documents/documents.repository.js';
import { withTransaction } from '../dist/libs/database/src/index.js';
import { outboxCte, outboxEvented, runWithOutbox, writeOutbox } from '../dist/libs/events/src/index.js';
import { appEnv, call, createDatabase, dropRedisPrefix, machine, round, runNode, runSuffix, SERVICE_KEY, startApi, stopChild, withCleanup, writeResults } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const DELETE_SEED = Number(process.env.DELETE_SEED ?? 250_000);
const suffix = runSuffix();
const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};

await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_shapes_${suffix}`);
  onCleanup(() => db.drop());
  onCleanup(() => dropRedisPrefix(`bench_shapes_${suffix}`));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  // The collection's table, indexes and definition as the api makes them.
  const api = await startApi(appEnv(db.url, `bench_shapes_${suffix}`));
  const def = { name: 'pub', fields: [{ name: 'title', type: 'string' }, { name: 'n', type: 'integer' }], indexes: [['n']], rules: { read: 'public', list: 'public', create: 'public', update: 'public', delete: 'admin' } };
  await call(api.base, 'POST', '/v1/collections', def, { 'x-api-key': SERVICE_KEY, 'content-type': 'application/json' });
  await stopChild(api.child);

  const pool = new pg.Pool({ connectionString: db.url, max: 10, application_name: 'bench-update-shapes' });
  onCleanup(() => pool.end());
  await pool.query(`INSERT INTO data.pub (id, data) SELECT gen_random_uuid(), jsonb_build_object('title', 'doc ' || g, 'n', g) FROM generate_series(1, 20000) g`);
  await pool.query('ANALYZE data.pub');
  const ids = (await pool.query('SELECT id::text FROM data.pub ORDER BY random() LIMIT 2000')).rows.map((r) => r.id);
  const repo = new DocumentsRepository(pool, { DATA_QUERY_TIMEOUT_MS: 0 });
  const fullDef = { ...def, indexes: [{ fields: ['n'] }] };
  const caller = { kind: 'anonymous' };
  const event = { collection: 'pub', operation: 'update', actor: { type: 'anonymous' } };
  const COLS = 'd.id, d.data, d.owner_id, d.acl, d.version, d.created_at, d.updated_at';
  const guarded = {
    name: 'bench_guarded_update',
    text: `WITH d AS (
       UPDATE data.pub AS d SET data = $2::jsonb, acl = $3::jsonb, version = d.version + 1, updated_at = clock_timestamp()
        WHERE d.id = $1::uuid AND d.version = $7::int RETURNING ${COLS}
     ), ${outboxCte('d', 'db.change', `$4::jsonb || jsonb_build_object('after', $5::jsonb || jsonb_build_object('version', d.version))`, '$6::text', "'update'")}
     SELECT d.*, ${outboxEvented()} FROM d`,
  };
  let retries = 0;
  let lost = 0;
  // The pool as patchInOne sees it, rewriting its statement to the snapshot read (other
  // statements, such as the relay's wake-up, pass through).
  const snapshotPool = {
    query: (cfg, values) =>
      typeof cfg === 'string'
        ? pool.query(cfg, values)
        : pool.query({ ...cfg, name: `${cfg.name}_s`, text: cfg.text.replace(' FOR UPDATE\n', '\n').replace('FROM o WHERE d.id = o.id', 'FROM o WHERE d.id = o.id AND d.version = o.version') }),
  };
  const shapes = {
    lock: (id, n) =>
      withTransaction(pool, async (tx) => {
        const row = await repo.findReadable(tx.client, fullDef, caller, def.rules.read, id, true);
        const data = { ...row.data, n };
        await repo.updateWithEvent(tx, fullDef, id, data, row.acl, { ...event, documentId: id, before: row, after: { id, ...data } });
      }),
    optimistic: async (id, n) => {
      for (;;) {
        const row = await repo.findReadable(pool, fullDef, caller, def.rules.read, id);
        const data = { ...row.data, n };
        const rows = await runWithOutbox(pool, {
          ...guarded,
          values: [id, JSON.stringify(data), row.acl, JSON.stringify({ ...event, documentId: id, before: row }), JSON.stringify({ id, ...data }), 'pub', row.version],
        });
        if (rows.length) return;
        retries++;
      }
    },
    // patchInOne's statement with the snapshot read instead of the lock: UPDATE … WHERE the version is unchanged.
    'one-snapshot': async (id, n) => {
      if (await repo.patchInOne(snapshotPool, fullDef, caller, { id, set: { n }, unset: [], event: { ...event, documentId: id } })) return;
      lost++;
      await shapes.lock(id, n);
    },
    one: async (id, n) => {
      const done = await repo.patchInOne(pool, fullDef, caller, { id, set: { n }, unset: [], event: { ...event, documentId: id } });
      if (!done) throw new Error('patchInOne wrote nothing');
    },
  };

  const service = { kind: 'service', keyId: 'bench' };
  let victims = [];
  const take = () => {
    const id = victims.pop();
    if (!id) throw new Error('out of documents to delete: raise the seed');
    return id;
  };
  const deletes = {
    'delete-lock': () => {
      const id = take();
      return withTransaction(pool, async (tx) => {
        const row = await repo.findReadable(tx.client, fullDef, service, def.rules.read, id, true);
        await repo.delete(tx.client, fullDef, id);
        await writeOutbox(tx, 'db.change', { ...event, operation: 'delete', documentId: id, before: row, after: null });
      });
    },
    'delete-one': async () => {
      const id = take();
      if (!(await repo.deleteInOne(pool, fullDef, service, id, undefined, { ...event, operation: 'delete', documentId: id, after: null }))) throw new Error('deleteInOne deleted nothing');
    },
  };
  Object.assign(shapes, deletes);

  async function backends() {
    return (await pool.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-update-shapes' AND pid <> pg_backend_pid()`)).rows.map((r) => r.pid);
  }
  async function run(shape, seconds) {
    const pids = await backends();
    const pg0 = pids.map(cpuTicks);
    const me0 = process.cpuUsage();
    const end = Date.now() + seconds * 1000;
    let ops = 0;
    let i = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < end) {
          const k = i++;
          await shapes[shape](ids[(k * 7919) % ids.length], k);
          ops++;
        }
      }),
    );
    const me = process.cpuUsage(me0);
    const pgTicks = pids.reduce((sum, pid, j) => sum + cpuTicks(pid) - pg0[j], 0);
    return { ops, opsPerSec: ops / seconds, clientUs: (me.user + me.system) / ops, postgresUs: (pgTicks * 10_000) / ops };
  }

  const patchShapes = ['lock', 'optimistic', 'one-snapshot', 'one'];
  for (const shape of patchShapes) await run(shape, 2); // warm-up: JIT, prepared statements, every pooled connection
  const acc = Object.fromEntries(Object.keys(shapes).map((s) => [s, []]));
  const order = [];
  for (let r = 0; r < ROUNDS; r++) order.push(...(r % 2 ? [...patchShapes].reverse() : patchShapes));
  const deleteOrder = [];
  for (let r = 0; r < ROUNDS; r++) deleteOrder.push(...(r % 2 ? ['delete-one', 'delete-lock'] : ['delete-lock', 'delete-one']));
  const measure = async (shape) => {
    const res = await run(shape, SECONDS);
    acc[shape].push(res);
    console.log(`${shape.padEnd(12)} ${round(res.opsPerSec)} ops/s, client ${round(res.clientUs)} µs/op, postgres ${round(res.postgresUs)} µs/op`);
  };
  for (const shape of order) await measure(shape);
  // Documents to delete, apart from the 2000 patched ones.
  victims = (await pool.query(`INSERT INTO data.pub (id, data) SELECT gen_random_uuid(), jsonb_build_object('title', 'victim', 'n', g) FROM generate_series(1, ${DELETE_SEED}) g RETURNING id::text`)).rows.map((r) => r.id);
  await pool.query('ANALYZE data.pub');
  for (const shape of Object.keys(deletes)) await run(shape, 2);
  for (const shape of deleteOrder) await measure(shape);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const span = (xs) => `${round(Math.min(...xs))}-${round(Math.max(...xs))}`;
  const results = Object.entries(acc).filter(([, runs]) => runs.length > 0).map(([shape, runs]) => ({
    shape,
    opsPerSec: round(mean(runs.map((r) => r.opsPerSec))),
    opsPerSecRange: span(runs.map((r) => r.opsPerSec)),
    clientUsPerOp: round(mean(runs.map((r) => r.clientUs))),
    postgresUsPerOp: round(mean(runs.map((r) => r.postgresUs))),
    postgresUsRange: span(runs.map((r) => r.postgresUs)),
  }));
  const m = machine();
  const md = [
    '# PATCH and DELETE: SQL shapes compared (no HTTP)',
    '',
    `Generated by \`node bench/update-shapes.mjs\` on ${new Date().toISOString()}: ${m.cpus} × ${m.cpuModel}, Node ${process.version}; load average at the start ${m.loadAverage.join(' / ')} (shared machine).`,
    `${CONCURRENCY} concurrent callers over a pool of 10, one field of a random document of 2000 (of 20000), anonymous caller, public rules, no function subscribed; ${ROUNDS} runs of ${SECONDS} s per shape, alternating (${order.join(' ')}; then ${deleteOrder.join(' ')}, a service caller deleting documents of ${DELETE_SEED} seeded for it); means, with the range over runs. CPU: this process (node-pg, the api's share of the SQL) and the pool's Postgres backends. Lost races: optimistic ${retries} (retried), one-snapshot ${lost} (went the lock shape).`,
    '',
    '| shape | round trips | ops/s (range) | client CPU µs/op | Postgres CPU µs/op (range) |',
    '|---|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.shape} | ${{ lock: 4, optimistic: 2, 'one-snapshot': 1, one: 1, 'delete-lock': 5, 'delete-one': 1 }[r.shape]} | ${r.opsPerSec} (${r.opsPerSecRange}) | ${r.clientUsPerOp} | ${r.postgresUsPerOp} (${r.postgresUsRange}) |`),
    '',
  ].join('\n');
  console.log(md);
  await writeResults('update-shapes', { machine: m, concurrency: CONCURRENCY, seconds: SECONDS, rounds: ROUNDS, retries, lost, results }, md);
});
