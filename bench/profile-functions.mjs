// Profiling aid for function invocations (not part of `npm run bench`): runs the no-op sync
// invoke (or `async`) against the built api and BENCH_FN_WORKERS workers, and reports the CPU
// time per invocation of each process (api, workers, sandbox hosts, Postgres, Redis, this load
// generator) from /proc, so the cost of one run can be read where it is spent.
//
//   node bench/profile-functions.mjs [sync|async|trigger] [seconds]    PROF=1 writes .cpuprofile files to bench/results/profiles,
//   PGSS=1 lists the top statements (needs pg_stat_statements loaded), RATE=400 creates/s for `trigger`
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { ADMIN_URL, appEnv, call, cannon, createDatabase, dropRedisPrefix, root, runSuffix, SERVICE_KEY, startNode, waitFor, freePort, withCleanup } from './lib.mjs';

const scenario = process.argv[2] ?? 'sync';
/** The built tree to run (TREE=<checkout with dist/>), this one by default: A/B runs of two trees. */
const tree = process.env.TREE ?? root;
const seconds = Number(process.argv[3] ?? 8);
const WORKERS = Number(process.env.BENCH_FN_WORKERS ?? 2);
const suffix = runSuffix();
const HZ = 100;

const procs = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.split(') ')[1].split(' ');
        return { pid: Number(pid), ppid: Number(f[1]), comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), ticks: Number(f[11]) + Number(f[12]) };
      } catch {
        return null;
      }
    })
    .filter(Boolean);

/** CPU ticks by pid, with each process's role (processes that end between two snapshots drop out of both). */
function snapshot(roles, pgPids) {
  const out = new Map();
  for (const p of procs()) {
    let role;
    if (p.comm === 'postgres') role = pgPids.has(p.pid) ? 'postgres (this database\'s backends)' : undefined;
    else if (p.comm.startsWith('redis-server')) role = 'redis';
    else if (p.pid === process.pid) role = 'load generator';
    else role = roles.get(p.pid) ?? (roles.has(p.ppid) ? `${roles.get(p.ppid)} children (sandbox hosts)` : undefined);
    if (role) out.set(p.pid, { role, ticks: p.ticks });
  }
  return out;
}

/** CPU ticks spent between two snapshots, by role (a process started in between counts whole). */
function spent(before, after) {
  const out = {};
  for (const [pid, { role, ticks }] of after) out[role] = (out[role] ?? 0) + ticks - (before.get(pid)?.ticks ?? 0);
  return out;
}

/** Runs a node script of the tree to its end. */
function startNodeDone(args, env) {
  const child = startNode(args, env, { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]} exited ${code}`)))));
}

await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_fnprof_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_fnprof_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await startNodeDone(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const dir = join(root, 'bench', 'results', 'profiles');
  await mkdir(dir, { recursive: true });
  const prof = (name) => (process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`] : []);
  const env = appEnv(db.url, prefix, { WORKER_CONCURRENCY: process.env.BENCH_FN_WORKER_CONCURRENCY ?? '16', SANDBOX_HOSTS: process.env.BENCH_FN_SANDBOX_HOSTS ?? '2' });
  const apiPort = await freePort();
  const apiBase = `http://127.0.0.1:${apiPort}`;
  const apiChild = startNode([...prof(`fn-${scenario}-api`), 'dist/apps/api/src/main.js'], { ...env, PORT: String(apiPort), HOST: '127.0.0.1', PUBLIC_URL: apiBase }, { cwd: tree });
  await waitFor(`${apiBase}/v1/health/ready`, 60_000, apiChild);
  const api = { child: apiChild, base: apiBase };
  const roles = new Map([[api.child.pid, 'api']]);
  for (let i = 0; i < WORKERS; i++) {
    const port = await freePort();
    const child = startNode([...prof(`fn-${scenario}-worker${i}`), '--no-node-snapshot', 'dist/apps/worker/src/main.js'], { ...env, API_INTERNAL_URL: api.base, WORKER_HEALTH_PORT: String(port) }, { cwd: tree });
    await waitFor(`http://127.0.0.1:${port}/health/live`, 60_000, child);
    roles.set(child.pid, 'workers');
  }
  const service = { 'x-api-key': SERVICE_KEY };
  await call(api.base, 'PUT', '/v1/functions/noop', { source: 'export default async () => {}', triggers: [{ type: 'http' }], concurrency: 1000 }, service);
  await call(api.base, 'POST', '/v1/functions/noop/invoke', {}, service);
  const path = scenario === 'async' ? '/v1/functions/noop/invoke?async=true' : '/v1/functions/noop/invoke';
  let opts = { url: api.base, connections: Number(process.env.BENCH_FN_CONNECTIONS ?? 50), headers: { ...service, 'content-type': 'application/json' }, request: { method: 'POST', path, body: '{}' } };
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  onCleanup(() => pool.end());
  if (scenario === 'trigger') {
    // Creates at RATE/s (service key) into a collection with a db-triggered function that
    // makes one ctx.db write per run: CPU per event, and how far the runs fall behind.
    for (const name of ['bench_docs', 'bench_audit']) {
      await call(api.base, 'POST', '/v1/collections', { name, fields: [{ name: 'n', type: 'number' }], rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' } }, service);
    }
    await call(api.base, 'PUT', '/v1/functions/on-doc', {
      source: "export default async (event, ctx) => { await ctx.db.collection('bench_audit').create({ n: event.after.n }); }",
      triggers: [{ type: 'db', collection: 'bench_docs', events: ['create'] }],
      concurrency: 1000,
    }, service);
    opts = { ...opts, connections: 20, overallRate: Number(process.env.RATE ?? 400), request: { method: 'POST', path: '/v1/collections/bench_docs/documents', body: '{"n":1}' } };
  }
  await cannon({ ...opts, duration: 2 });
  const admin = process.env.PGSS ? new pg.Client({ connectionString: ADMIN_URL }) : null;
  if (admin) {
    await admin.connect();
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await admin.query('SELECT pg_stat_statements_reset()');
  }
  // Postgres backends of this benchmark's database only (other work on the machine has its own).
  const pgPids = async () =>
    new Set((await pool.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => r.pid));
  const before = snapshot(roles, await pgPids());
  const runsBefore = scenario === 'trigger' ? (await pool.query("SELECT count(*)::int AS n FROM function_runs WHERE status = 'succeeded'")).rows[0].n : 0;
  const r = await cannon({ ...opts, duration: seconds });
  const after = snapshot(roles, await pgPids());
  if (scenario === 'trigger') {
    const q = async () => (await pool.query("SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS ok, count(*)::int AS runs, (SELECT count(*)::int FROM data.bench_docs) AS docs FROM function_runs")).rows[0];
    const atEnd = await q();
    const t0 = performance.now();
    let now = atEnd;
    while (now.ok < now.docs && performance.now() - t0 < 120_000) {
      await new Promise((res) => setTimeout(res, 100));
      now = await q();
    }
    const lag = await pool.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.started_at - (d.created_at)) * 1000) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM r.started_at - (d.created_at)) * 1000) AS p99
         FROM function_runs r JOIN data.bench_docs d ON d.id = (r.event->>'documentId')::uuid`,
    );
    process.stdout.write(`trigger: ${now.docs} documents; at the end of the load ${atEnd.ok - runsBefore} runs had succeeded during it (${Math.round((atEnd.ok - runsBefore) / seconds)}/s), ${atEnd.docs - atEnd.ok} behind; drained in ${Math.round(performance.now() - t0)} ms; change -> start p50 ${Math.round(lag.rows[0].p50)} ms, p99 ${Math.round(lag.rows[0].p99)} ms\n`);
  }
  const lines = [`${tree === root ? '' : `${tree} `}${scenario}: ${r.requestsPerSec} req/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms, ${r.requests} requests, non2xx ${r.non2xx}`];
  let total = 0;
  const used = spent(before, after);
  for (const k of Object.keys(used).sort()) {
    const cpu = used[k] / HZ;
    total += cpu;
    lines.push(`  ${k.padEnd(40)} ${cpu.toFixed(2).padStart(6)} s CPU  ${((cpu * 1e6) / r.requests).toFixed(0).padStart(6)} µs/invocation`);
  }
  lines.push(`  ${'total'.padEnd(40)} ${total.toFixed(2).padStart(6)} s CPU  ${((total * 1e6) / r.requests).toFixed(0).padStart(6)} µs/invocation (of ${seconds * 2} core-seconds)`);
  if (admin) {
    const { rows } = await admin.query(
      `SELECT calls, round(total_exec_time::numeric, 0) AS ms, round((total_exec_time / calls * 1000)::numeric, 0) AS us_per_call, round((total_plan_time / calls * 1000)::numeric, 0) AS plan_us, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 ORDER BY total_exec_time DESC LIMIT 15`,
      [new URL(db.url).pathname.slice(1)],
    );
    for (const r of rows) lines.push(`  pg ${String(r.calls).padStart(7)} calls ${String(r.ms).padStart(6)} ms ${String(r.us_per_call).padStart(6)} µs/call plan ${r.plan_us} µs  ${r.query}`);
    await admin.end();
  }
  process.stdout.write(lines.join('\n') + '\n');
});
