// Functions benchmark: cold and warm invocation latency (warm overhead p50/p99), db change →
// function start latency, runs per second with 1 and 2 worker processes, db-triggered runs
// that make one ctx.db write per second with 2 workers, and the memory of 100 warm functions. Drives the BUILT api and workers
// (`npm run build` first) as child processes over HTTP, on a database and queue prefix of its
// own (created and dropped here). Writes bench/results/functions.json and .md.
//
//   node bench/functions.mjs            (Postgres and Redis on 127.0.0.1, as in the tests)
//
// Bounded: every loop has a fixed count, and the script stops the processes it started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, getPriority, loadavg } from 'node:os';
import pg from 'pg';
import { transformSync } from '@swc/core';
import { Redis } from 'ioredis';
import { ADMIN_URL, freePort, REDIS_URL } from './lib.mjs';

const SERVICE_KEY = 'bench-service-key-0123456789abcdefghijklmnop';
const COLD_SAMPLES = 40;
const WARM_SAMPLES = 1000;
const EVENT_SAMPLES = 200;
const THROUGHPUT_RUNS = 2000;
const TRIGGERED_RUNS = 1000;
const WARM_FUNCTIONS = 100;

const suffix = randomBytes(4).toString('hex');
const dbName = `baas_bench_fn_${suffix}`;
const dbUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${dbName}` }).toString();
const children = new Set();

function start(args, env) {
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl,
      REDIS_URL,
      QUEUE_PREFIX: `bench_fn_${suffix}`,
      SERVICE_API_KEY: SERVICE_KEY,
      JWT_SECRET: 'bench-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz',
      LOG_LEVEL: 'warn',
      AUTH_RATE_LIMIT_MAX: '100000',
      // The gateway's limiter stays on, with budgets no benchmark reaches (as bench/lib.mjs appEnv).
      RATE_LIMIT_READS: '999999999/60',
      RATE_LIMIT_WRITES: '999999999/60',
      RATE_LIMIT_INVOKES: '999999999/60',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function waitFor(url, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function startWorker(apiUrl) {
  const port = await freePort();
  const child = start(['--no-node-snapshot', 'dist/apps/worker/src/main.js'], {
    API_INTERNAL_URL: apiUrl,
    WORKER_HEALTH_PORT: String(port),
  });
  await waitFor(`http://127.0.0.1:${port}/health/live`);
  child.metricsUrl = `http://127.0.0.1:${port}/metrics`;
  return child;
}

/** One value of the worker's Prometheus metrics. */
async function workerMetric(worker, name) {
  const text = await fetch(worker.metricsUrl, { headers: { 'x-api-key': SERVICE_KEY } }).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : null;
}

/** Resident memory (MB) of a worker's sandbox host processes (its child processes). */
function sandboxRssMb(worker) {
  let kb = 0;
  for (const dir of readdirSync('/proc')) {
    if (!/^\d+$/.test(dir)) continue;
    try {
      const status = readFileSync(`/proc/${dir}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== worker.pid) continue;
      kb += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // the process ended meanwhile
    }
  }
  return Math.round(kb / 102.4) / 10;
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const round = (v) => Math.round(v * 100) / 100;
  return { n: s.length, p50: round(pct(s, 50)), p99: round(pct(s, 99)), min: round(s[0]), max: round(s.at(-1)) };
}

async function main() {
  const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const migrate = start(['dist/libs/database/src/migrate.main.js'], {});
  await new Promise((resolve, reject) => migrate.once('exit', (code) => (code === 0 ? resolve() : reject(new Error('migrate failed')))));
  const db = new pg.Pool({ connectionString: dbUrl, max: 2 });
  db.on('error', () => undefined); // the cleanup drops the database under idle connections

  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const api = start(['dist/apps/api/src/main.js'], { PORT: String(port), HOST: '127.0.0.1' });
  await waitFor(`${apiUrl}/v1/health/ready`);
  let workers = [await startWorker(apiUrl)];

  const call = async (method, path, body, headers = {}) => {
    const res = await fetch(`${apiUrl}/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-api-key': SERVICE_KEY, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const timed = async (fn) => {
    const t0 = performance.now();
    const value = await fn();
    return [performance.now() - t0, value];
  };

  // --- The handler called in-process: the baseline the overhead is measured against.
  const HELLO = 'export default async (event) => ({ hello: event.payload?.name ?? "world" })';
  const cjs = transformSync(HELLO, { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, isModule: true }).code;
  const mod = { exports: {} };
  new Function('module', 'exports', cjs)(mod, mod.exports);
  const handler = mod.exports.default;
  const inProcess = [];
  for (let i = 0; i < WARM_SAMPLES; i++) {
    const t0 = performance.now();
    await handler({ payload: { name: 'bench' } });
    inProcess.push(performance.now() - t0);
  }

  // --- Cold: the first run of each newly deployed function (new version, nothing cached).
  const cold = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    await call('PUT', `/functions/cold-${i}`, { source: `${HELLO} // version ${i}`, triggers: [{ type: 'http' }] });
    const [ms, res] = await timed(() => call('POST', `/functions/cold-${i}/invoke`, { name: 'cold' }));
    if (res.status !== 'succeeded') throw new Error(`cold run ${res.status}`);
    cold.push(ms);
  }

  // --- Memory of WARM_FUNCTIONS warm functions: each deployed and invoked once (one worker),
  // then the warm isolates and the sandbox processes' resident memory are read.
  const rssBefore = sandboxRssMb(workers[0]);
  const isolatesBefore = await workerMetric(workers[0], 'sandbox_warm_isolates');
  for (let i = 0; i < WARM_FUNCTIONS; i++) {
    await call('PUT', `/functions/mem-${i}`, { source: `${HELLO} // function ${i}`, triggers: [{ type: 'http' }] });
    const res = await call('POST', `/functions/mem-${i}/invoke`, { name: 'mem' });
    if (res.status !== 'succeeded') throw new Error(`mem run ${res.status}`);
  }
  const warmMemory = {
    functions: WARM_FUNCTIONS,
    warmIsolatesBefore: isolatesBefore,
    warmIsolatesAfter: await workerMetric(workers[0], 'sandbox_warm_isolates'),
    warmHeapMb: Math.round(((await workerMetric(workers[0], 'sandbox_warm_heap_bytes')) ?? 0) / 1e5) / 10,
    sandboxRssMbBefore: rssBefore,
    sandboxRssMbAfter: sandboxRssMb(workers[0]),
  };
  warmMemory.rssPerFunctionMb = Math.round(((warmMemory.sandboxRssMbAfter - rssBefore) / WARM_FUNCTIONS) * 100) / 100;

  // --- Warm: the same function invoked again and again (sync, over HTTP, one at a time).
  await call('PUT', '/functions/warm', { source: HELLO, triggers: [{ type: 'http' }] });
  for (let i = 0; i < 50; i++) await call('POST', '/functions/warm/invoke', { name: 'w' });
  const warm = [];
  for (let i = 0; i < WARM_SAMPLES; i++) {
    const [ms, res] = await timed(() => call('POST', '/functions/warm/invoke', { name: 'w' }));
    if (res.status !== 'succeeded') throw new Error(`warm run ${res.status}`);
    warm.push(ms);
  }
  // The api's cheapest authenticated route on the same connection, for scale.
  const ping = [];
  for (let i = 0; i < 300; i++) ping.push((await timed(() => fetch(`${apiUrl}/v1/health/live`).then((r) => r.text())))[0]);
  const warmBreakdownP50Ms = await breakdown(300);

  // --- db change → function start: a document created through the data API; the function
  // reports when it started; the change's time is the document's createdAt (the outbox row is
  // gone once the relay has published it).
  const adminCollection = (name) =>
    call('POST', '/collections', {
      name,
      fields: [{ name: 'n', type: 'number' }],
      rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
    });
  await adminCollection('bench_docs');
  await call('PUT', '/functions/on-doc', {
    source: 'export default (event) => ({ startedAt: Date.now() })',
    triggers: [{ type: 'db', collection: 'bench_docs', events: ['create'] }],
  });
  const eventToRun = [];
  for (let i = 0; i < EVENT_SAMPLES; i++) {
    const doc = await call('POST', '/collections/bench_docs/documents', { n: i });
    let row;
    for (let tries = 0; tries < 2000 && !row; tries++) {
      const { rows } = await db.query(
        `SELECT (r.result->>'startedAt')::bigint AS started FROM function_runs r
          WHERE r.status = 'succeeded' AND r.event->>'documentId' = $1`,
        [doc.id],
      );
      row = rows[0] && { ...rows[0], committed: Date.parse(doc.createdAt) };
      if (!row) await new Promise((r) => setTimeout(r, 2));
    }
    if (!row) throw new Error('db-triggered run did not finish');
    eventToRun.push(Number(row.started) - Number(row.committed));
  }

  // --- Runs per second: THROUGHPUT_RUNS async runs queued while no worker runs, then
  // drained by 1, then 2 worker processes; rate = runs / (last finish - first start).
  await call('PUT', '/functions/tp', { source: HELLO, triggers: [{ type: 'http' }], concurrency: 1000 });
  const throughput = {};
  for (const count of [1, 2]) {
    for (const w of workers) await stopChild(w);
    await db.query("DELETE FROM function_runs WHERE function_id = (SELECT id FROM functions WHERE name = 'tp')");
    const batch = 50;
    for (let i = 0; i < THROUGHPUT_RUNS; i += batch) {
      await Promise.all(Array.from({ length: batch }, () => call('POST', '/functions/tp/invoke?async=true', { name: 'tp' })));
    }
    workers = await Promise.all(Array.from({ length: count }, () => startWorker(apiUrl)));
    for (;;) {
      const { rows } = await db.query(
        "SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS done, count(*)::int AS total FROM function_runs WHERE function_id = (SELECT id FROM functions WHERE name = 'tp')",
      );
      if (rows[0].done === rows[0].total) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows } = await db.query(
      "SELECT (extract(epoch FROM max(finished_at) - min(started_at)) * 1000)::float AS ms FROM function_runs WHERE function_id = (SELECT id FROM functions WHERE name = 'tp')",
    );
    throughput[`${count}_worker${count > 1 ? 's' : ''}`] = {
      runs: THROUGHPUT_RUNS,
      seconds: Math.round(rows[0].ms) / 1000,
      runsPerSecond: Math.round((THROUGHPUT_RUNS / rows[0].ms) * 1000),
    };
  }

  // --- db-triggered runs that make one ctx.db write each, with 2 workers: TRIGGERED_RUNS
  // documents created while no worker ran (their events wait in the outbox), then drained.
  await adminCollection('bench_audit');
  await call('PUT', '/functions/on-doc', {
    source: "export default async (event, ctx) => { await ctx.db.collection('bench_audit').create({ n: event.after.n }); }",
    triggers: [{ type: 'db', collection: 'bench_docs', events: ['create'] }],
    concurrency: 1000,
  });
  for (const w of workers) await stopChild(w);
  await db.query("DELETE FROM function_runs WHERE function_id = (SELECT id FROM functions WHERE name = 'on-doc')");
  for (let i = 0; i < TRIGGERED_RUNS; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => call('POST', '/collections/bench_docs/documents', { n: i + j })));
  }
  workers = await Promise.all([startWorker(apiUrl), startWorker(apiUrl)]);
  for (let waited = 0; ; waited += 100) {
    const { rows } = await db.query(
      "SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS done FROM function_runs WHERE function_id = (SELECT id FROM functions WHERE name = 'on-doc')",
    );
    if (rows[0].done >= TRIGGERED_RUNS) break;
    if (waited > 300_000) throw new Error(`triggered runs: ${rows[0].done} of ${TRIGGERED_RUNS} after 5 min`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const triggeredMs = (
    await db.query(
      "SELECT (extract(epoch FROM max(finished_at) - min(started_at)) * 1000)::float AS ms FROM function_runs WHERE function_id = (SELECT id FROM functions WHERE name = 'on-doc')",
    )
  ).rows[0].ms;
  const writes = (await call('GET', '/collections/bench_audit/documents?count=true&limit=1')).count;
  const triggered = { runs: TRIGGERED_RUNS, writes, seconds: Math.round(triggeredMs) / 1000, runsPerSecond: Math.round((TRIGGERED_RUNS / triggeredMs) * 1000) };

  for (const w of workers) await stopChild(w);
  await stopChild(api);
  await db.end();

  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, nice: getPriority(), loadBefore, loadAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
    settings: { WORKER_CONCURRENCY: 8, SANDBOX_HOSTS: 2, memoryMb: 128 },
    inProcessHandlerMs: summary(inProcess),
    coldInvokeMs: summary(cold),
    warmInvokeMs: summary(warm),
    warmOverheadOverInProcessMs: Math.round((summary(warm).p50 - summary(inProcess).p50) * 100) / 100,
    warmOverheadP99OverInProcessMs: Math.round((summary(warm).p99 - summary(inProcess).p99) * 100) / 100,
    apiHealthLiveMs: summary(ping),
    warmBreakdownP50Ms,
    dbChangeToFunctionStartMs: summary(eventToRun),
    throughput,
    triggered,
    warmMemory,
    targets: {
      coldP50Ms: { target: 15, met: summary(cold).p50 <= 15 },
      warmOverheadP50Ms: { target: 3, met: summary(warm).p50 - summary(inProcess).p50 <= 3 },
      warmOverheadP99Ms: { target: 10, met: summary(warm).p99 - summary(inProcess).p99 <= 10 },
      dbChangeToStartP50Ms: { target: 20, met: summary(eventToRun).p50 <= 20 },
      triggeredRunsPerSecond: { target: 500, met: triggered.runsPerSecond >= 500 },
    },
  };
  await writeFile('bench/results/functions.json', JSON.stringify(results, null, 2) + '\n');
  await writeFile('bench/results/functions.md', markdown(results));
  process.stdout.write(markdown(results));
}

/**
 * Where a warm invoke's time goes: api and worker in this one process (the sandbox hosts are
 * still child processes), with timestamps taken around each step of one run.
 */
async function breakdown(samples) {
  const W = new URL('../dist/', import.meta.url).href;
  const { parseConfig } = await import(W + 'libs/config/src/index.js');
  const { createApp } = await import(W + 'apps/api/src/app.factory.js');
  const { createWorker } = await import(W + 'apps/worker/src/worker.factory.js');
  const { FunctionsRepository } = await import(W + 'apps/api/src/functions/functions.repository.js');
  const { FunctionResults } = await import(W + 'apps/api/src/functions/functions.results.js');
  const { FunctionRunsRepository } = await import(W + 'apps/worker/src/functions/function-runs.repository.js');
  const { SandboxPool } = await import(W + 'apps/worker/src/sandbox/sandbox-pool.js');
  const { FunctionSlots } = await import(W + 'apps/worker/src/functions/functions.processor.js');
  const { Queue } = await import('bullmq');
  const marks = new Map();
  const mark = (id, key) => {
    if (!marks.has(id)) marks.set(id, {});
    marks.get(id)[key] = performance.now();
  };
  const wrap = (proto, name, key, idOf) => {
    const original = proto[name];
    proto[name] = async function (...args) {
      mark(idOf(args), `${key}0`);
      try {
        return await original.apply(this, args);
      } finally {
        mark(idOf(args), `${key}1`);
      }
    };
  };
  wrap(FunctionsRepository.prototype, 'createHttpRun', 'insert', (a) => a[1].id);
  wrap(Queue.prototype, 'add', 'enqueue', (a) => a[1]?.runId);
  wrap(FunctionRunsRepository.prototype, 'start', 'start', (a) => a[0]);
  wrap(FunctionRunsRepository.prototype, 'peek', 'start', (a) => a[0]); // a sync invoke reads its run (no write)
  wrap(FunctionSlots.prototype, 'acquire', 'slot', (a) => a[1]);
  wrap(SandboxPool.prototype, 'run', 'sandbox', (a) => a[0].id.split(':')[0]);
  wrap(FunctionRunsRepository.prototype, 'finish', 'finish', (a) => a[0]);
  const settle = FunctionResults.prototype.settle;
  FunctionResults.prototype.settle = function (id, result) {
    mark(id, 'settled');
    return settle.call(this, id, result);
  };
  const port = await freePort();
  const config = parseConfig({
    DATABASE_URL: dbUrl,
    REDIS_URL,
    QUEUE_PREFIX: `bench_fn_${suffix}_inproc`,
    SERVICE_API_KEY: SERVICE_KEY,
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: String(port),
    WORKER_HEALTH_PORT: '0',
  });
  const app = await createApp(config);
  await app.listen({ port, host: '127.0.0.1' });
  const worker = await createWorker({ ...config, API_INTERNAL_URL: `http://127.0.0.1:${port}` });
  const invoke = () =>
    fetch(`http://127.0.0.1:${port}/v1/functions/warm/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': SERVICE_KEY },
      body: '{"name":"b"}',
    }).then((r) => r.json());
  for (let i = 0; i < 50; i++) await invoke();
  const rows = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const { runId } = await invoke();
    const t1 = performance.now();
    const m = marks.get(runId);
    rows.push({
      'HTTP in, auth, validation': m.insert0 - t0,
      'api: find function + insert run (1 SQL)': m.insert1 - m.insert0,
      'api: add job (BullMQ)': m.enqueue1 - m.enqueue0,
      'worker: picked up → read run (1 SQL, no write)': m.start1 - m.enqueue1,
      'worker: concurrency slot (Redis)': m.slot1 - m.slot0,
      'sandbox: IPC + isolate + handler': m.sandbox1 - m.sandbox0,
      'worker: record attempt + outcome + usage (1 SQL)': m.finish1 - m.finish0,
      'job completed → api notified': m.settled - m.finish1,
      'api: answer → client': t1 - m.settled,
      total: t1 - t0,
    });
  }
  await worker.close();
  await app.close();
  return Object.fromEntries(Object.keys(rows[0]).map((k) => [k, summary(rows.map((r) => r[k])).p50]));
}

function markdown(r) {
  const row = (name, s) => `| ${name} | ${s.n} | ${s.p50} | ${s.p99} | ${s.min} | ${s.max} |`;
  return [
    '# Functions benchmark',
    '',
    `Run ${r.date} on ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}, by \`node bench/functions.mjs\``,
    `(nice ${r.machine.nice}; load average ${r.machine.loadBefore.join(' / ')} before, ${r.machine.loadAfter.join(' / ')} after: the machine is shared)`,
    ...(r.machine.loadBefore[0] > r.machine.cpus
      ? [`**The machine was loaded by other work during this run** (load average above its ${r.machine.cpus} cores): latencies and rates are worse than a quiet machine gives.`]
      : []),
    'against the built api and worker processes (WORKER_CONCURRENCY=8 (the default), SANDBOX_HOSTS=2, 128 MB isolates),',
    'with Postgres and Redis on the same machine. Latencies are client-side over HTTP (keep-alive), in ms.',
    '',
    '| measure | n | p50 | p99 | min | max |',
    '|---|---|---|---|---|---|',
    row('handler called in-process (baseline)', r.inProcessHandlerMs),
    row('cold invoke (first run after deploy), sync', r.coldInvokeMs),
    row('warm invoke, sync', r.warmInvokeMs),
    row('`GET /v1/health/live` (HTTP floor)', r.apiHealthLiveMs),
    row('db change (commit) → function start', r.dbChangeToFunctionStartMs),
    '',
    `Warm overhead over the in-process handler: p50 **${r.warmOverheadOverInProcessMs} ms**, p99 **${r.warmOverheadP99OverInProcessMs} ms**.`,
    '',
    'Where a warm invoke spends its time (p50 of each step, api and worker in one process, sandbox hosts as',
    'child processes; the steps are sequential, their p50s need not add up exactly to the total):',
    '',
    '| step | p50 ms |',
    '|---|---|',
    ...Object.entries(r.warmBreakdownP50Ms).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '| workers | runs | seconds | runs/s |',
    '|---|---|---|---|',
    ...Object.entries(r.throughput).map(([k, v]) => `| ${k.replace('_', ' ')} | ${v.runs} | ${v.seconds} | ${v.runsPerSecond} |`),
    '',
    `db-triggered runs making one \`ctx.db\` write, 2 workers: ${r.triggered.runs} runs (${r.triggered.writes} writes) in ${r.triggered.seconds} s = **${r.triggered.runsPerSecond} runs/s**`,
    '(events queued in the outbox while no worker ran, then drained; the api serves only the functions\' writes here).',
    '',
    `Memory of ${r.warmMemory.functions} warm functions (one worker, each function deployed and invoked once):`,
    `warm isolates ${r.warmMemory.warmIsolatesBefore} → ${r.warmMemory.warmIsolatesAfter}, their heap in use ${r.warmMemory.warmHeapMb} MB;`,
    `sandbox processes' resident memory ${r.warmMemory.sandboxRssMbBefore} MB → ${r.warmMemory.sandboxRssMbAfter} MB (≈ ${r.warmMemory.rssPerFunctionMb} MB per warm function).`,
    '',
    '| target | value | met |',
    '|---|---|---|',
    `| cold start p50 ≤ 15 ms | ${r.coldInvokeMs.p50} | ${r.targets.coldP50Ms.met ? 'yes' : 'no'} |`,
    `| warm invoke overhead p50 ≤ 3 ms | ${r.warmOverheadOverInProcessMs} | ${r.targets.warmOverheadP50Ms.met ? 'yes' : 'no'} |`,
    `| warm invoke overhead p99 ≤ 10 ms | ${r.warmOverheadP99OverInProcessMs} | ${r.targets.warmOverheadP99Ms.met ? 'yes' : 'no'} |`,
    `| db change → function start p50 ≤ 20 ms | ${r.dbChangeToFunctionStartMs.p50} | ${r.targets.dbChangeToStartP50Ms.met ? 'yes' : 'no'} |`,
    `| db-triggered runs with one ctx.db write ≥ 500/s (2 workers) | ${r.triggered.runsPerSecond} | ${r.targets.triggeredRunsPerSecond.met ? 'yes' : 'no'} |`,
    '',
    'Throughput: runs queued while no worker ran, then drained; runs/s = runs ÷ (last finish − first start).',
    'On 2 cores the api, Postgres, Redis and the workers share the CPU, so a second worker',
    'process adds less than a second machine would.',
    '',
  ].join('\n');
}

async function cleanup() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    // This run's prefixes: the processes' `bench_fn_<suffix>` and the in-process `…_inproc`.
    const [next, keys] = await redis.scan(cursor, 'MATCH', `bench_fn_${suffix}*:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
