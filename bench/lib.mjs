// Helpers shared by the benchmark scripts written for `npm run bench` (compare-parse, auth,
// functions-throughput, storage-transfer): databases and Redis prefixes of their own, child
// processes that are always stopped, autocannon runs, result files.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SERVICE_KEY = `bench-service-key-${randomBytes(16).toString('hex')}`;
export const JWT_SECRET = randomBytes(32).toString('hex');
/** Seconds per measured autocannon run, and of the warm-up before it (BENCH_DURATION, BENCH_WARMUP). */
export const DURATION = Number(process.env.BENCH_DURATION ?? 8);
export const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const round = (n, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A short unique suffix for database names and queue prefixes of one run. */
export const runSuffix = () => `${process.pid}_${randomBytes(3).toString('hex')}`;

// ---------------------------------------------------------------- child processes

const children = new Set();

/**
 * Starts `node <args>` in its own process group (so its own children stop with it), with a
 * minimal environment plus `env`. Every child is killed when the benchmark exits, however.
 */
export function startNode(args, env, { cwd = root, stdio = ['ignore', 'ignore', 'inherit'] } = {}) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio,
    detached: true,
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export async function stopChild(child, timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  await Promise.race([exited, sleep(timeoutMs)]);
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await Promise.race([exited, sleep(2000)]);
  }
}

export async function stopAll() {
  await Promise.all([...children].map((c) => stopChild(c)));
}

function killAllNow() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

/** Polls `url` until it answers 200; fails early when `child` (optional) exits first. */
export async function waitFor(url, timeoutMs = 60_000, child = undefined) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`the process behind ${url} exited (${child.exitCode ?? child.signalCode})`);
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

export async function runNode(args, env) {
  const child = startNode(args, env, { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code}`);
}

// ---------------------------------------------------------------- databases, Redis

/** Creates a database of its own; `drop()` removes it (also with open connections). */
export async function createDatabase(name) {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();
  return {
    name,
    url,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Deletes every Redis key under `prefix:` (the api's and worker's QUEUE_PREFIX). */
export async function dropRedisPrefix(prefix) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The environment of the built api and worker for one benchmark. */
export function appEnv(databaseUrl, queuePrefix, extra = {}) {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    SERVICE_API_KEY: SERVICE_KEY,
    JWT_SECRET,
    LOG_LEVEL: 'warn',
    AUTH_RATE_LIMIT_MAX: '100000',
    // The gateway's limiter stays on (its cost is part of what users run), with budgets no
    // benchmark reaches: a load generator on one address would otherwise measure 429s.
    RATE_LIMIT_READS: '999999999/60',
    RATE_LIMIT_WRITES: '999999999/60',
    RATE_LIMIT_UPLOADS: '999999999/60',
    RATE_LIMIT_INVOKES: '999999999/60',
    RATE_LIMIT_AUTH: '999999999/60',
    ...extra,
  };
}

/** Starts the built api (`dist/apps/api/src/main.js`) and waits until it is ready. */
export async function startApi(env, nodeArgs = []) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = startNode([...nodeArgs, 'dist/apps/api/src/main.js'], { ...env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: base });
  await waitFor(`${base}/v1/health/ready`, 60_000, child);
  return { child, base, port };
}

/** Starts one built worker process and waits for its liveness route. */
export async function startWorker(env, apiBase) {
  const port = await freePort();
  const child = startNode(['--no-node-snapshot', 'dist/apps/worker/src/main.js'], { ...env, API_INTERNAL_URL: apiBase, WORKER_HEALTH_PORT: String(port) });
  await waitFor(`http://127.0.0.1:${port}/health/live`, 60_000, child);
  return child;
}

/** Whether Parse Server is installed in bench/parse (`npm ci --prefix bench/parse`; run-all does it). */
export const parseInstalled = () => existsSync(join(root, 'bench', 'parse', 'node_modules', 'parse-server'));

/**
 * Starts Parse Server 9 (bench/parse/server.mjs, one process) on `databaseUrl` from a scratch
 * directory (its logger writes ./logs), and waits until it answers. Returns its base URL and
 * the master-key headers.
 */
export async function startParse(databaseUrl, onCleanup) {
  const appId = 'bench';
  const masterKey = `bench-master-${runSuffix()}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cwd = await mkdtemp(join(os.tmpdir(), 'baas-bench-parse-'));
  onCleanup(() => rm(cwd, { recursive: true, force: true }));
  const child = startNode([join(root, 'bench', 'parse', 'server.mjs')], { NODE_ENV: 'production', PORT: String(port), DATABASE_URI: databaseUrl, APP_ID: appId, MASTER_KEY: masterKey }, {
    cwd,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  await waitFor(`${base}/ready`, 60_000, child);
  await waitFor(`${base}/parse/health`, 60_000, child);
  return { child, base, appId, master: { 'x-parse-application-id': appId, 'x-parse-master-key': masterKey } };
}

/** JSON request that throws on an error status. */
export async function call(base, method, path, body, headers = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

// ---------------------------------------------------------------- load generation

/**
 * One autocannon run. `request` is an autocannon request object; `next(i)` (optional) gives
 * the i-th request's changes ({ path, body, method }) so every request can differ;
 * `overallRate` (optional) caps the requests per second of all connections together.
 */
export async function cannon({ url, connections, duration = DURATION, headers = {}, request = {}, next, overallRate }) {
  let i = 0;
  const result = await autocannon({
    url,
    connections,
    duration,
    headers,
    ...(overallRate ? { overallRate } : {}),
    requests: [
      {
        ...request,
        ...(next
          ? {
              setupRequest: (req) => Object.assign(req, next(i++)),
            }
          : {}),
      },
    ],
  });
  return {
    connections,
    durationSec: duration,
    requestsPerSec: Math.round(result.requests.average),
    p50ms: result.latency.p50,
    p90ms: result.latency.p90,
    p99ms: result.latency.p99,
    maxMs: result.latency.max,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Warm-up (not recorded), then the measured run. */
export async function warmAndMeasure(opts) {
  if (WARMUP > 0) await cannon({ ...opts, duration: WARMUP });
  return cannon(opts);
}

/** p50/p99 summary (ms, two decimals) of latency samples. */
export function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  return { n: s.length, p50: round(at(50), 2), p99: round(at(99), 2), min: round(s[0], 2), max: round(s.at(-1), 2) };
}

// ---------------------------------------------------------------- machine, results

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    memoryGiB: round(os.totalmem() / 1024 ** 3),
    node: process.version,
    loadAverage: os.loadavg().map((l) => round(l, 2)),
  };
}

export async function postgresVersion() {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return (await c.query('SHOW server_version')).rows[0].server_version;
  } finally {
    await c.end();
  }
}

/** Writes bench/results/<name>.json and <name>.md. */
export async function writeResults(name, json, markdown) {
  const dir = join(root, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
  await writeFile(join(dir, `${name}.md`), markdown.endsWith('\n') ? markdown : markdown + '\n');
}

export async function readResults(name) {
  return JSON.parse(await readFile(join(root, 'bench', 'results', `${name}.json`), 'utf8'));
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
export async function memoryOf(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: round(kb('VmRSS') / 1024), peakMiB: round(kb('VmHWM') / 1024) };
}

/** Resets the kernel's peak-RSS counter (VmHWM) of a process we own. */
export async function resetPeak(pid) {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

/** Runs `fn`, and on the way out (success or failure) runs every cleanup in order, then stops all children. */
export async function withCleanup(fn) {
  const cleanups = [];
  try {
    return await fn((cleanup) => cleanups.unshift(cleanup));
  } finally {
    await stopAll();
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (err) {
        console.error('cleanup failed:', err instanceof Error ? err.message : err);
      }
    }
  }
}

// ---------------------------------------------------------------- a lean HTTP client

/**
 * One keep-alive connection that sends the same prepared request, one at a time, and reads
 * each answer by its Content-Length (204/304 have none). Costs the client a fraction of
 * what autocannon does per request, which leaves the 2 cores to what is measured.
 */
export async function keepAliveClient(port, requestBytes) {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.setEncoding('latin1');
  let buffer = '';
  let length = -1;
  let status = 0;
  let pending = null;
  socket.on('data', (chunk) => {
    buffer += chunk;
    if (length < 0) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.slice(0, end);
      status = Number(head.slice(9, 12));
      if (/\r\ntransfer-encoding:/i.test(head)) return pending.reject(new Error('chunked answers are not read by this client'));
      const declared = /\r\ncontent-length: *(\d+)/i.exec(head);
      length = end + 4 + (status === 204 || status === 304 || !declared ? 0 : Number(declared[1]));
    }
    if (buffer.length < length) return;
    buffer = buffer.slice(length);
    length = -1;
    const done = pending;
    pending = null;
    done.resolve(status);
  });
  let open = true;
  // The api ends a connection idle for KEEP_ALIVE_TIMEOUT_MS (a caller then opens another).
  socket.on('close', () => {
    open = false;
    pending?.reject(new Error('connection closed'));
  });
  socket.on('error', (err) => pending?.reject(err));
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return {
    get open() {
      return open;
    },
    send: () =>
      new Promise((resolve, reject) => {
        pending = { resolve, reject };
        socket.write(requestBytes);
      }),
    close: () => socket.destroy(),
  };
}

/** Per side: the api's get rate peaks at about 8 on this machine (more connections only queue). */

// ---------------------------------------------------------------- callgrind

// Functions of V8's major (mark-compact) collector and of its optimizing compilers. Both run
// in bursts (a major GC every few windows, a function re-optimised now and then) whose
// instructions land in whichever window they fall in, by ±50 % of a window's total; they
// are counted apart. The scavenger (young generation), which follows allocation smoothly,
// stays in the counted instructions.
const MAJOR_GC = /Mark|Sweep|Evacuat|heap::base::|cppgc::|RememberedSet|SlotSet|PointersUpdat|Compaction|__popcount|SizeFromMap|IterateObjectCache|RelocIterator|FlushedBytecode|RecordMigratedSlot|FreeList|StringTableCleaner|WeakObjects|Ephemeron/;
const SCAVENGER = /Scaveng/;
const COMPILERS = /compiler::|maglev::|turboshaft::|Turboshaft/;

/** Instructions of one callgrind dump: all, major GC, optimizing compilers, and the rest ("counted"). */
export async function callgrindInstructions(file) {
  const { stdout } = await promisify(execFile)('callgrind_annotate', ['--inclusive=no', '--threshold=100', '--auto=no', file], { maxBuffer: 256 * 1024 * 1024 });
  const counts = { total: 0, majorGc: 0, compilers: 0, counted: 0 };
  for (const line of stdout.split('\n')) {
    const m = /^\s*([\d,]+) (?:\([^)]*\))?\s+(.*)$/.exec(line);
    if (!m) continue;
    const n = Number(m[1].replaceAll(',', ''));
    if (m[2].includes('PROGRAM TOTALS')) counts.total = n;
    else if (SCAVENGER.test(m[2])) continue;
    else if (MAJOR_GC.test(m[2])) counts.majorGc += n;
    else if (COMPILERS.test(m[2])) counts.compilers += n;
  }
  if (counts.total === 0) throw new Error(`no totals in ${file}`);
  counts.counted = counts.total - counts.majorGc - counts.compilers;
  return counts;
}
