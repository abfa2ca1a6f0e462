// Data API benchmark: get and list throughput with p50/p99 latency, against the BUILT api.
//
//   npm run build && node bench/data.mjs            (DOCS=100000 DURATION=10 CONNECTIONS=16)
//
// It creates its own database (dropped at the end), migrates it, starts
// `node dist/apps/api/src/main.js` as a child process, defines collections through the api,
// seeds documents with one bulk SQL insert, then drives each scenario with autocannon.
// A second part compares, in plain SQL, the storage chosen (one table per collection) with
// the alternative (one shared table with per-collection partial indexes): see
// docs/decisions.md. Results: bench/results/data.json and bench/results/data.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { ADMIN_URL, dropRedisPrefix, freePort } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = Number(process.env.DOCS ?? 100_000);
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const SERVICE_KEY = `bench-service-key-${randomBytes(16).toString('hex')}`;

const dbName = `baas_bench_data_${process.pid}`;
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${dbName}`;
const DATABASE_URL = dbUrl.toString();

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

async function http(base, method, path, body, headers = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function cannon(name, base, { path, paths, method = 'GET', headers = {}, body }) {
  let i = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { 'content-type': 'application/json', ...headers },
    requests: [
      {
        method,
        path: path ?? paths[0],
        ...(body === undefined ? {} : { body }),
        ...(paths
          ? {
              setupRequest: (req) => {
                req.path = paths[i++ % paths.length];
                return req;
              },
            }
          : {}),
      },
    ],
  });
  const row = {
    scenario: name,
    requestsPerSec: Math.round(result.requests.average),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  console.log(`${name.padEnd(58)} ${String(row.requestsPerSec).padStart(6)} req/s  p50 ${row.p50ms} ms  p99 ${row.p99ms} ms  non2xx ${row.non2xx}`);
  return row;
}

/** Times `fn` n times sequentially on one connection: ops/s and p50/p99 in ms. */
async function timeSql(n, fn) {
  const samples = [];
  const started = performance.now();
  for (let k = 0; k < n; k++) {
    const t = performance.now();
    await fn(k);
    samples.push(performance.now() - t);
  }
  const total = performance.now() - started;
  samples.sort((a, b) => a - b);
  const q = (p) => Math.round(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] * 1000) / 1000;
  return { opsPerSec: Math.round((n / total) * 1000), p50ms: q(0.5), p99ms: q(0.99) };
}

async function storageComparison(db) {
  // 5 collections of DOCS/2 documents each, in both layouts.
  const per = Math.max(1000, Math.floor(DOCS / 2));
  const names = ['c0', 'c1', 'c2', 'c3', 'c4'];
  const payload = (c) => `jsonb_build_object('score', (g * 7919) % 100000, 'title', 'doc ' || g, 'c', '${c}')`;
  await db.query(`CREATE SCHEMA cmp`);
  await db.query(`CREATE TABLE cmp.shared (id uuid PRIMARY KEY, collection text NOT NULL, data jsonb NOT NULL, owner_id uuid, acl jsonb,
    version int NOT NULL DEFAULT 1, created_at timestamptz(3) NOT NULL DEFAULT now(), updated_at timestamptz(3) NOT NULL DEFAULT now())`);
  await db.query(`CREATE INDEX ON cmp.shared (collection, created_at, id)`);
  for (const c of names) {
    await db.query(`CREATE TABLE cmp.${c} (id uuid PRIMARY KEY, data jsonb NOT NULL, owner_id uuid, acl jsonb,
      version int NOT NULL DEFAULT 1, created_at timestamptz(3) NOT NULL DEFAULT now(), updated_at timestamptz(3) NOT NULL DEFAULT now())`);
    await db.query(`CREATE INDEX ON cmp.${c} (created_at, id)`);
    await db.query(`INSERT INTO cmp.${c} (id, data) SELECT gen_random_uuid(), ${payload(c)} FROM generate_series(1, ${per}) g`);
    await db.query(`INSERT INTO cmp.shared (id, collection, data) SELECT id, '${c}', data FROM cmp.${c}`);
  }
  const expr = `(CASE WHEN jsonb_typeof(data->'score') = 'number' THEN (data->>'score')::numeric END)`;
  const timedDdl = async (sql) => {
    const t = performance.now();
    await db.query(sql);
    return Math.round(performance.now() - t);
  };
  const ddl = {
    sharedPartialIndexMs: await timedDdl(`CREATE INDEX ON cmp.shared (${expr}) WHERE collection = 'c2'`),
    perCollectionIndexMs: await timedDdl(`CREATE INDEX ON cmp.c2 (${expr})`),
  };
  await db.query(`ANALYZE cmp.shared`);
  for (const c of names) await db.query(`ANALYZE cmp.${c}`);
  const ids = (await db.query(`SELECT id FROM cmp.c2 ORDER BY random() LIMIT 2000`)).rows.map((r) => r.id);
  const n = 4000;
  const result = {
    documentsPerCollection: per,
    collections: names.length,
    ...ddl,
    getShared: await timeSql(n, (k) => db.query(`SELECT * FROM cmp.shared d WHERE d.id = $1 AND d.collection = $2`, [ids[k % ids.length], 'c2'])),
    getPerCollection: await timeSql(n, (k) => db.query(`SELECT * FROM cmp.c2 d WHERE d.id = $1`, [ids[k % ids.length]])),
    listIndexedShared: await timeSql(n / 4, (k) =>
      db.query(`SELECT * FROM cmp.shared d WHERE d.collection = $1 AND ${expr} >= $2::numeric ORDER BY ${expr} LIMIT 20`, ['c2', String((k * 37) % 99000)]),
    ),
    listIndexedPerCollection: await timeSql(n / 4, (k) =>
      db.query(`SELECT * FROM cmp.c2 d WHERE ${expr} >= $1::numeric ORDER BY ${expr} LIMIT 20`, [String((k * 37) % 99000)]),
    ),
  };
  await db.query(`DROP SCHEMA cmp CASCADE`);
  return result;
}

const loadAverageAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE "${dbName}"`);
let api;
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
db.on('error', () => undefined); // DROP DATABASE ... WITH (FORCE) at the end may cut an idle connection
try {
  await run(process.execPath, ['dist/libs/database/src/migrate.main.js'], { DATABASE_URL });
  const port = await freePort();
  const scratch = mkdtempSync(join(tmpdir(), 'baas-bench-'));
  api = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL,
      DATABASE_POOL_MAX: '10',
      QUEUE_PREFIX: `bench_${process.pid}`,
      JWT_SECRET: randomBytes(32).toString('hex'),
      SERVICE_API_KEY: SERVICE_KEY,
      LOG_LEVEL: 'warn',
      STORAGE_LOCAL_DIR: join(scratch, 'storage'),
      MAIL_DIR: join(scratch, 'mail'),
      AUTH_RATE_LIMIT_MAX: '100000',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${base}/v1/health/live`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (i > 300) throw new Error('the api did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const service = { 'x-api-key': SERVICE_KEY };

  // A public collection, and a private one (owner rule, documents with an acl) for the permission path.
  await http(base, 'POST', '/v1/collections', {
    name: 'items',
    fields: [
      { name: 'title', type: 'string', required: true },
      { name: 'score', type: 'number' },
      { name: 'tags', type: 'array', items: 'string' },
      { name: 'body', type: 'string' },
    ],
    indexes: [['score'], ['tags']],
    rules: { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' },
  }, service);
  await http(base, 'POST', '/v1/collections', {
    name: 'notes',
    fields: [{ name: 'title', type: 'string' }, { name: 'score', type: 'number' }],
    indexes: [['score']],
    rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
  }, service);
  await http(base, 'POST', '/v1/collections', {
    name: 'texts',
    fields: [{ name: 'body', type: 'string' }],
    rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
  }, service);
  const signup = await http(base, 'POST', '/v1/auth/signup', { email: `bench-${process.pid}@example.test`, password: 'bench password 123' });
  const userId = signup.user.id;
  const bearer = { authorization: `Bearer ${signup.accessToken}` };

  const t0 = performance.now();
  await db.query(
    `INSERT INTO data."items" (id, data) SELECT gen_random_uuid(),
       jsonb_build_object('title', 'item ' || g, 'score', (g * 7919) % 100000, 'tags', jsonb_build_array('t' || (g % 100), 'all'), 'body', repeat('lorem ipsum ', 20))
     FROM generate_series(1, $1::int) g`,
    [DOCS],
  );
  await db.query(
    `INSERT INTO data."notes" (id, data, owner_id, acl) SELECT gen_random_uuid(), jsonb_build_object('title', 'note ' || g, 'score', g % 1000),
       CASE WHEN g % 10 = 0 THEN $2::uuid ELSE gen_random_uuid() END, '{"read":["role:team"]}'::jsonb
     FROM generate_series(1, $1::int) g`,
    [DOCS, userId],
  );
  // 200 documents of 256 KiB each, for $contains on long strings.
  await db.query(`INSERT INTO data."texts" (id, data) SELECT gen_random_uuid(), jsonb_build_object('body', repeat('a', 262144)) FROM generate_series(1, 200) g`);
  await db.query('ANALYZE data."items"');
  await db.query('ANALYZE data."notes"');
  await db.query('ANALYZE data."texts"');
  console.log(`seeded ${DOCS} items + ${DOCS} notes + 200 long texts in ${Math.round(performance.now() - t0)} ms`);

  const itemIds = (await db.query(`SELECT id FROM data."items" ORDER BY random() LIMIT 5000`)).rows.map((r) => r.id);
  const myNoteIds = (await db.query(`SELECT id FROM data."notes" WHERE owner_id = $1 ORDER BY random() LIMIT 2000`, [userId])).rows.map((r) => r.id);
  const q = (params) => `?${new URLSearchParams(params)}`;
  const list = '/v1/collections/items/documents';

  const scenarios = [];
  // Warm-up: JIT, pools, caches.
  await autocannon({ url: base, connections: CONNECTIONS, duration: 2, requests: [{ path: `${list}/${itemIds[0]}` }] });
  scenarios.push(await cannon('get by id (public rule, anonymous)', base, { paths: itemIds.map((id) => `${list}/${id}`) }));
  scenarios.push(await cannon('get by id (owner rule + acl, signed-in user)', base, { paths: myNoteIds.map((id) => `/v1/collections/notes/documents/${id}`), headers: bearer }));
  scenarios.push(await cannon('list, default sort, limit 20', base, { path: `${list}${q({ limit: '20' })}` }));
  scenarios.push(
    await cannon('list, filter + sort on an indexed number, limit 20', base, {
      paths: Array.from({ length: 200 }, (_, k) => `${list}${q({ filter: JSON.stringify({ score: { $gte: k * 400 } }), sort: 'score', limit: '20' })}`),
    }),
  );
  scenarios.push(
    await cannon('list, $contains on an indexed array, limit 20', base, {
      paths: Array.from({ length: 100 }, (_, k) => `${list}${q({ filter: JSON.stringify({ tags: { $contains: `t${k}` } }), limit: '20' })}`),
    }),
  );
  const page2 = await http(base, 'GET', `${list}${q({ limit: '20', sort: '-score' })}`);
  scenarios.push(await cannon('list, next page by cursor, sort -score, limit 20', base, { path: `${list}${q({ limit: '20', sort: '-score', cursor: page2.nextCursor })}` }));
  scenarios.push(await cannon('list, owner rule + acl, signed-in user, limit 20', base, { path: `/v1/collections/notes/documents${q({ limit: '20' })}`, headers: bearer }));
  scenarios.push(
    await cannon('list, $contains (worst-case needle) over 200 x 256 KiB strings', base, {
      path: `/v1/collections/texts/documents${q({ filter: JSON.stringify({ body: { $contains: `${'a'.repeat(1000)}b` } }), fields: 'id', limit: '20' })}`,
    }),
  );
  scenarios.push(await cannon('create (insert + outbox event, one transaction)', base, { path: list, method: 'POST', body: JSON.stringify({ title: 'new', score: 5, tags: ['x'] }) }));

  console.log('storage layouts (plain SQL, one connection)…');
  const storage = await storageComparison(db);
  console.log(JSON.stringify(storage));

  const meta = {
    date: new Date().toISOString(),
    loadAverageAtStart,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    postgres: (await db.query('SHOW server_version')).rows[0].server_version,
    documents: DOCS,
    durationSec: DURATION,
    connections: CONNECTIONS,
  };
  const out = join(root, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'data.json'), JSON.stringify({ meta, scenarios, storage }, null, 2) + '\n');
  const md = [
    '# Data API benchmark',
    '',
    `Generated by \`node bench/data.mjs\` on ${meta.date}: Node ${meta.node}, Postgres ${meta.postgres}, ${meta.cpus} CPU (${meta.cpuModel}),`,
    `shared with the database, the load generator and other work (load average ${meta.loadAverageAtStart.join(', ')} at the start). ${meta.documents} documents per collection; autocannon, ${meta.connections} connections, ${meta.durationSec} s per scenario, one api process (pool of 10).`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | non-2xx |',
    '|---|---:|---:|---:|---:|',
    ...scenarios.map((s) => `| ${s.scenario} | ${s.requestsPerSec} | ${s.p50ms} | ${s.p99ms} | ${s.non2xx} |`),
    '',
    '## Storage layout (plain SQL, one connection, sequential)',
    '',
    `${storage.collections} collections of ${storage.documentsPerCollection} documents, in one shared table (partial indexes per collection) and in one table per collection.`,
    '',
    '| measure | shared table | table per collection |',
    '|---|---:|---:|',
    `| CREATE INDEX on one field of one collection (blocks writes meanwhile) | ${storage.sharedPartialIndexMs} ms | ${storage.perCollectionIndexMs} ms |`,
    `| get by id: ops/s (p50 / p99 ms) | ${storage.getShared.opsPerSec} (${storage.getShared.p50ms} / ${storage.getShared.p99ms}) | ${storage.getPerCollection.opsPerSec} (${storage.getPerCollection.p50ms} / ${storage.getPerCollection.p99ms}) |`,
    `| indexed range + sort, limit 20: ops/s (p50 / p99 ms) | ${storage.listIndexedShared.opsPerSec} (${storage.listIndexedShared.p50ms} / ${storage.listIndexedShared.p99ms}) | ${storage.listIndexedPerCollection.opsPerSec} (${storage.listIndexedPerCollection.p50ms} / ${storage.listIndexedPerCollection.p99ms}) |`,
    '',
  ].join('\n');
  writeFileSync(join(out, 'data.md'), md);
  console.log('wrote bench/results/data.json and bench/results/data.md');
} finally {
  if (api) {
    api.kill('SIGTERM');
    await new Promise((r) => api.once('exit', r));
  }
  await db.end();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
  // The api's queue and rate-limit keys (QUEUE_PREFIX above).
  await dropRedisPrefix(`bench_${process.pid}`);
}
