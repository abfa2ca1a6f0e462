// Invocations per second of a no-op HTTP function: `POST /v1/functions/noop/invoke` (sync: the
// client waits for the run's result) driven by autocannon against the built api and
// BENCH_FN_WORKERS worker processes (default 2), on a database and queue prefix of its own.
// Also the same with `?async=true` (202 once the run is queued), for the api's share alone.
//
//   npm run build && node bench/functions-noop.mjs      (BENCH_FN_CONNECTIONS=50 BENCH_FN_WORKERS=2 BENCH_FN_WORKER_CONCURRENCY=16)
//
// Results: bench/results/functions-noop.json and .md.
import pg from 'pg';
import {
  appEnv,
  call,
  createDatabase,
  dropRedisPrefix,
  machine,
  runNode,
  runSuffix,
  SERVICE_KEY,
  sleep,
  startApi,
  startWorker,
  warmAndMeasure,
  withCleanup,
  writeResults,
  WARMUP,
} from './lib.mjs';

const CONNECTIONS = Number(process.env.BENCH_FN_CONNECTIONS ?? 50);
const WORKERS = Number(process.env.BENCH_FN_WORKERS ?? 2);
const WORKER_CONCURRENCY = Number(process.env.BENCH_FN_WORKER_CONCURRENCY ?? 16);
const SANDBOX_HOSTS = Number(process.env.BENCH_FN_SANDBOX_HOSTS ?? 2);
const suffix = runSuffix();
const startedAt = new Date();
const loadBefore = machine().loadAverage;

const result = await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_fnnoop_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_fnnoop_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const env = appEnv(db.url, prefix, { WORKER_CONCURRENCY: String(WORKER_CONCURRENCY), SANDBOX_HOSTS: String(SANDBOX_HOSTS) });
  const api = await startApi(env);
  for (let i = 0; i < WORKERS; i++) await startWorker(env, api.base);
  const service = { 'x-api-key': SERVICE_KEY };
  await call(api.base, 'PUT', '/v1/functions/noop', { source: 'export default async () => {}', triggers: [{ type: 'http' }], concurrency: 1000 }, service);
  const first = await call(api.base, 'POST', '/v1/functions/noop/invoke', {}, service);
  if (first.status !== 'succeeded') throw new Error(`noop run ${first.status}`);

  const opts = {
    url: api.base,
    connections: CONNECTIONS,
    headers: { ...service, 'content-type': 'application/json' },
  };
  const sync = await warmAndMeasure({ ...opts, request: { method: 'POST', path: '/v1/functions/noop/invoke', body: '{}' } });
  if (sync.non2xx > 0 || sync.errors > 0) throw new Error(`sync invoke: ${sync.non2xx} non-2xx, ${sync.errors} errors`);

  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  onCleanup(() => pool.end());
  const counts = async () =>
    (await pool.query("SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS ok, count(*) FILTER (WHERE status <> 'succeeded')::int AS other FROM function_runs")).rows[0];
  const afterSync = await counts();

  const asyncRun = await warmAndMeasure({ ...opts, request: { method: 'POST', path: '/v1/functions/noop/invoke?async=true', body: '{}' } });
  if (asyncRun.non2xx > 0 || asyncRun.errors > 0) throw new Error(`async invoke: ${asyncRun.non2xx} non-2xx, ${asyncRun.errors} errors`);
  // Let the workers drain what was queued (bounded), so nothing is left running at cleanup.
  const drainStart = performance.now();
  let drained = await counts();
  while (drained.other > 0 && performance.now() - drainStart < 120_000) {
    await sleep(250);
    drained = await counts();
  }
  return { sync, async: asyncRun, runsAfterSync: afterSync, runsAfterDrain: drained, drainSeconds: Math.round(performance.now() - drainStart) / 1000 };
});

const report = {
  date: startedAt.toISOString(),
  machine: { ...machine(), loadAverageBefore: loadBefore },
  settings: { workers: WORKERS, WORKER_CONCURRENCY, SANDBOX_HOSTS, connections: CONNECTIONS, warmupSec: WARMUP, function: 'export default async () => {}' },
  ...result,
  target: { invocationsPerSec: 1500, met: result.sync.requestsPerSec >= 1500 },
};
const md = [
  '# Functions: no-op invocations per second',
  '',
  `Run ${report.date} by \`node bench/functions-noop.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node} (load average before: ${loadBefore.join(' / ')}, after: ${machine().loadAverage.join(' / ')}).`,
  loadBefore[0] > report.machine.cpus
    ? `**The machine was loaded by other work during this run** (load average above its ${report.machine.cpus} cores): these numbers are lower than a quiet machine gives.`
    : 'The machine was quiet during this run.',
  `Built api (1 process) + ${WORKERS} worker processes (WORKER_CONCURRENCY=${WORKER_CONCURRENCY}, SANDBOX_HOSTS=${SANDBOX_HOSTS}), Postgres and Redis on the same 2 cores; autocannon, ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${report.sync.durationSec} s.`,
  '',
  '| measure | req/s | p50 ms | p99 ms | target | met |',
  '|---|---:|---:|---:|---|---|',
  `| \`POST /v1/functions/noop/invoke\` (sync: answered with the run's result) | ${report.sync.requestsPerSec} | ${report.sync.p50ms} | ${report.sync.p99ms} | ≥ 1500/s | ${report.target.met ? 'yes' : 'no'} |`,
  `| \`POST /v1/functions/noop/invoke?async=true\` (202 once queued) | ${report.async.requestsPerSec} | ${report.async.p50ms} | ${report.async.p99ms} | | |`,
  '',
  `Runs recorded after the sync part: ${report.runsAfterSync.ok} succeeded, ${report.runsAfterSync.other} other; the async part's runs drained in ${report.drainSeconds} s (${report.runsAfterDrain.ok} succeeded in all, ${report.runsAfterDrain.other} left).`,
  '',
].join('\n');
await writeResults('functions-noop', report, md);
process.stdout.write(md);
