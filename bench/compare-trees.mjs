// A/B of the data API hot paths between two built checkouts (a refactor's before and after),
// in one run on one database: each tree's api runs as its own process, and the runs
// alternate A B B A A B B A so drift on this shared machine falls on both sides alike.
// Reports req/s and the api process's CPU per request (from /proc), which moves far less
// between runs than throughput does here. Not part of `npm run bench`.
//
//   node bench/compare-trees.mjs <dir A> <dir B>          (each with `dist/` built)
//   BENCH_DURATION=6 ROUNDS=2 CONNECTIONS=16 SCENARIOS=create,update (names starting so)
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { resolve } from 'node:path';
import { appEnv, call, cannon, createDatabase, dropRedisPrefix, freePort, machine, round, runNode, runSuffix, SERVICE_KEY, startNode, stopChild, waitFor, withCleanup, writeResults } from './lib.mjs';

const [dirA, dirB] = process.argv.slice(2).map((d) => resolve(d));
if (!dirA || !dirB) {
  console.error('usage: node bench/compare-trees.mjs <dir A> <dir B>');
  process.exit(2);
}
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const DURATION = Number(process.env.BENCH_DURATION ?? 6);
const DOCS = 20_000;
const suffix = runSuffix();
const ticksPerSec = 100;
const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};

async function startApiIn(cwd, env) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = startNode(['dist/apps/api/src/main.js'], { ...env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: base }, { cwd });
  await waitFor(`${base}/v1/health/ready`, 60_000, child);
  return { child, base };
}

await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_ab_${suffix}`);
  onCleanup(() => db.drop());
  onCleanup(() => dropRedisPrefix(`bench_ab_${suffix}`));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const env = appEnv(db.url, `bench_ab_${suffix}`);
  const sides = { A: await startApiIn(dirA, env), B: await startApiIn(dirB, env) };
  for (const s of Object.values(sides)) onCleanup(() => stopChild(s.child));
  const svc = { 'x-api-key': SERVICE_KEY, 'content-type': 'application/json' };
  const base = sides.A.base;

  await call(base, 'POST', '/v1/collections', { name: 'pub', fields: [{ name: 'title', type: 'string' }, { name: 'n', type: 'integer' }], indexes: [['n']], rules: { read: 'public', list: 'public', create: 'public', update: 'public', delete: 'admin' } }, svc);
  await call(base, 'POST', '/v1/collections', { name: 'mine', fields: [{ name: 'title', type: 'string' }], rules: { read: 'owner', list: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' } }, svc);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await sql.query(`INSERT INTO data.pub (id, data) SELECT gen_random_uuid(), jsonb_build_object('title', 'doc ' || g, 'n', g) FROM generate_series(1, ${DOCS}) g`);
  await sql.query('ANALYZE data.pub');
  const ids = (await sql.query('SELECT id FROM data.pub ORDER BY random() LIMIT 2000')).rows.map((r) => r.id);
  await sql.end();
  const user = await call(base, 'POST', '/v1/auth/signup', { email: `ab-${suffix}@example.test`, password: 'bench password 123' });
  const bearer = { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' };
  const mineIds = [];
  for (let i = 0; i < 200; i++) mineIds.push((await call(base, 'POST', '/v1/collections/mine/documents', { title: `m${i}` }, bearer)).id);

  const scenarios = [
    { name: 'get by id (public, anonymous)', request: { method: 'GET' }, next: (i) => ({ path: `/v1/collections/pub/documents/${ids[i % ids.length]}` }) },
    { name: 'get by id (owner rule, signed-in user)', headers: bearer, request: { method: 'GET' }, next: (i) => ({ path: `/v1/collections/mine/documents/${mineIds[i % mineIds.length]}` }) },
    { name: 'list, default sort, limit 20', request: { method: 'GET', path: '/v1/collections/pub/documents?limit=20' } },
    { name: 'list, filter + sort, limit 20', request: { method: 'GET' }, next: (i) => ({ path: `/v1/collections/pub/documents?limit=20&sort=-n&filter=${encodeURIComponent(JSON.stringify({ n: { $lt: 20_000 - (i % 1000) } }))}` }) },
    { name: 'create (anonymous)', headers: { 'content-type': 'application/json' }, request: { method: 'POST', path: '/v1/collections/pub/documents' }, next: (i) => ({ body: JSON.stringify({ title: `new ${i}`, n: i }) }) },
    { name: 'update (PATCH)', headers: { 'content-type': 'application/json' }, request: { method: 'PATCH' }, next: (i) => ({ path: `/v1/collections/pub/documents/${ids[i % ids.length]}`, body: JSON.stringify({ n: i }) }) },
  ];

  const only = process.env.SCENARIOS?.split(',');
  if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter((sc) => only.some((o) => sc.name.startsWith(o))));
  const order = [];
  for (let r = 0; r < ROUNDS; r++) order.push('A', 'B', 'B', 'A');
  const results = [];
  for (const sc of scenarios) {
    const acc = { A: { rps: [], cpu: [], p99: [], non2xx: 0 }, B: { rps: [], cpu: [], p99: [], non2xx: 0 } };
    // Warm-up of both sides (JIT, pools, caches), not recorded.
    for (const side of ['A', 'B']) await cannon({ url: sides[side].base, connections: CONNECTIONS, duration: 2, headers: sc.headers, request: sc.request, next: sc.next });
    for (const side of order) {
      const pid = sides[side].child.pid;
      const t0 = cpuTicks(pid);
      const run = await cannon({ url: sides[side].base, connections: CONNECTIONS, duration: DURATION, headers: sc.headers, request: sc.request, next: sc.next });
      const cpuUs = ((cpuTicks(pid) - t0) / ticksPerSec) * 1e6;
      acc[side].rps.push(run.requestsPerSec);
      acc[side].cpu.push(cpuUs / Math.max(1, run.requests));
      acc[side].p99.push(run.p99ms);
      acc[side].non2xx += run.non2xx;
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const row = { scenario: sc.name };
    for (const side of ['A', 'B']) row[side] = { rps: round(mean(acc[side].rps)), cpuUsPerReq: round(mean(acc[side].cpu)), p99ms: round(mean(acc[side].p99)), non2xx: acc[side].non2xx };
    row.rpsRatio = round(row.B.rps / row.A.rps, 3);
    row.cpuRatio = round(row.B.cpuUsPerReq / row.A.cpuUsPerReq, 3);
    console.log(`${sc.name.padEnd(40)} A ${row.A.rps} req/s ${row.A.cpuUsPerReq} µs | B ${row.B.rps} req/s ${row.B.cpuUsPerReq} µs | B/A req/s ${row.rpsRatio}, CPU ${row.cpuRatio}`);
    results.push(row);
  }
  const md = [
    '# Before / after: data API hot paths',
    '',
    `Generated by \`node bench/compare-trees.mjs\` on ${new Date().toISOString()}: ${machine().cpus} × ${machine().cpuModel}, Node ${process.version}; load average at the start ${machine().loadAverage.join(' / ')}.`,
    `A = \`${process.env.LABEL_A ?? dirA}\`, B = \`${process.env.LABEL_B ?? dirB}\`. Both apis on one database (${DOCS} public documents, 200 owner-rule documents of one user), ${CONNECTIONS} connections, ${DURATION} s per run after a 2 s warm-up of each side, runs in the order ${order.join(' ')}; means per side. CPU is the api process's user + system time per request.`,
    '',
    '| scenario | A req/s | B req/s | B/A req/s | A CPU µs/req | B CPU µs/req | B/A CPU | A p99 ms | B p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.scenario} | ${r.A.rps} | ${r.B.rps} | ${r.rpsRatio} | ${r.A.cpuUsPerReq} | ${r.B.cpuUsPerReq} | ${r.cpuRatio} | ${r.A.p99ms} | ${r.B.p99ms} |`),
    '',
  ].join('\n');
  await writeResults(process.env.RESULT_NAME ?? 'compare-trees', { machine: machine(), a: process.env.LABEL_A ?? dirA, b: process.env.LABEL_B ?? dirB, results }, md);
});
