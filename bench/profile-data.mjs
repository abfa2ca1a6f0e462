// Profiling aid for the data API (not part of `npm run bench`): runs one scenario against the
// built api started with `--cpu-prof`, and reports where the machine's CPU went (api process,
// Postgres backends, this load generator) from /proc.
//
//   node bench/profile-data.mjs get|list|create|update [seconds]     → bench/results/profiles/*.cpuprofile
//   NO_PROF=1 (no profile), NO_NOTIFY=1 (outbox NOTIFY trigger disabled, an experiment)
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { appEnv, call, cannon, createDatabase, dropRedisPrefix, root, runNode, runSuffix, SERVICE_KEY, startApi, stopChild, withCleanup } from './lib.mjs';

const scenario = process.argv[2] ?? 'get';
const seconds = Number(process.argv[3] ?? 8);
const suffix = runSuffix();
const ticks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const postgresPids = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
const pgTicks = () => postgresPids().reduce((sum, p) => sum + (() => { try { return ticks(p); } catch { return 0; } })(), 0);

await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_prof_${suffix}`);
  onCleanup(() => db.drop());
  onCleanup(() => dropRedisPrefix(`bench_prof_${suffix}`));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const dir = join(root, 'bench', 'results', 'profiles');
  await mkdir(dir, { recursive: true });
  const api = await startApi(appEnv(db.url, `bench_prof_${suffix}`), process.env.NO_PROF ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=data-${scenario}.cpuprofile`]);
  const service = { 'x-api-key': SERVICE_KEY };
  await call(api.base, 'POST', '/v1/collections', {
    name: 'items',
    fields: [{ name: 'title', type: 'string', required: true }, { name: 'score', type: 'number' }, { name: 'tags', type: 'array', items: 'string' }, { name: 'body', type: 'string' }],
    indexes: [['score']],
    rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
  }, service);
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  onCleanup(() => pool.end());
  await pool.query(`INSERT INTO data."items" (id, data) SELECT gen_random_uuid(), jsonb_build_object('title', 'item ' || g, 'score', (g * 7919) % 100000, 'tags', jsonb_build_array('t'), 'body', repeat('lorem ipsum ', 20)) FROM generate_series(1, 50000) g`);
  await pool.query('ANALYZE data."items"');
  // Experiment: without the outbox's NOTIFY wake-up (which serialises commits in Postgres).
  if (process.env.NO_NOTIFY) await pool.query('ALTER TABLE outbox_events DISABLE TRIGGER outbox_events_notify');
  const ids = (await pool.query('SELECT id FROM data."items" ORDER BY random() LIMIT 5000')).rows.map((r) => r.id);
  const body = (i) => JSON.stringify({ title: `n ${i}`, score: i, tags: ['x'], body: 'lorem ipsum '.repeat(20) });
  const requests = {
    get: { request: { method: 'GET', path: '/' }, next: (i) => ({ path: `/v1/collections/items/documents/${ids[i % ids.length]}` }) },
    list: { request: { method: 'GET', path: '/' }, next: (i) => ({ path: `/v1/collections/items/documents?${new URLSearchParams({ filter: JSON.stringify({ score: { $gte: (i * 397) % 99000 } }), sort: 'score', limit: '20' })}` }) },
    create: { request: { method: 'POST', path: '/v1/collections/items/documents' }, next: (i) => ({ body: body(i) }) },
    update: { request: { method: 'PATCH', path: '/' }, next: (i) => ({ path: `/v1/collections/items/documents/${ids[(i * 7) % ids.length]}`, body: JSON.stringify({ score: i }) }) },
  }[scenario];
  const opts = { url: api.base, connections: 50, headers: { ...service, 'content-type': 'application/json' }, ...requests };
  await cannon({ ...opts, duration: 2 });
  const a0 = ticks(api.child.pid), p0 = pgTicks(), s0 = process.cpuUsage(), t0 = performance.now();
  const r = await cannon({ ...opts, duration: seconds });
  const wall = (performance.now() - t0) / 1000;
  const s1 = process.cpuUsage(s0);
  const cpu = {
    apiCores: Math.round(((ticks(api.child.pid) - a0) / 100 / wall) * 100) / 100,
    postgresCores: Math.round(((pgTicks() - p0) / 100 / wall) * 100) / 100,
    loadGeneratorCores: Math.round(((s1.user + s1.system) / 1e6 / wall) * 100) / 100,
  };
  console.log(scenario, r, cpu, `api CPU per request: ${Math.round((cpu.apiCores * 1e6) / r.requestsPerSec)} µs, postgres: ${Math.round((cpu.postgresCores * 1e6) / r.requestsPerSec)} µs`);
  // SIGINT: Nest closes the app and the process exits normally, which writes the profile.
  api.child.kill('SIGINT');
  await stopChild(api.child);
});
