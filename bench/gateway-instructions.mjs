// Gateway cost in instructions: what rate limiting and CORS add to a get-by-id, counted by
// valgrind (callgrind), not timed.
//
//   npm run build && node bench/gateway-instructions.mjs   (BENCH_GATEWAY_IR_REQUESTS=300 BENCH_GATEWAY_IR_ROUNDS=6 BENCH_GATEWAY_IR_WARM=8000)
//
// Why: gateway.mjs times the same thing, but on a shared machine whose speed moves by ±20-40 %
// from one 2 s slice to the next, even inside one process (bench/README.md, "Gateway"), a
// 5 % cost cannot be seen in time. Instructions executed by the api process do not depend on
// what else the machine runs (the same instructions whatever the clock speed or the
// neighbours). valgrind counts every instruction of the process, JIT-compiled code included.
//
// One api process (bench/gateway-dual-api.mjs: "off" and "on", the same code in two apps, as
// in gateway.mjs) runs under callgrind with instrumentation off while it starts and warms up
// (both sides, both callers), then on. Each window zeroes the counters, sends exactly
// BENCH_GATEWAY_IR_REQUESTS requests to one side, and dumps the count; windows alternate
// off/on (off → on, on → off, …) for BENCH_GATEWAY_IR_ROUNDS pairs per caller. The cost is
// the median of the pairs' (on − off) / off. Everything both apps do on timers runs in every
// window, whichever side is driven, so it cancels out; Postgres and Redis are not counted
// (their share of a get is the same on both sides, apart from the limiter's batched Redis
// increments, stretched here: see SLOW). Then 200 vs 304 (If-None-Match) of the document.
// BENCH_VERBOSE=1 shows the api's stderr; BENCH_KEEP_DUMPS=1 keeps the callgrind dumps (for
// callgrind_annotate). Takes ~25 min on 2 cores. Not part of CI.
// Results: bench/results/gateway-instructions.json and .md.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { appEnv, call, callgrindInstructions, createDatabase, dropRedisPrefix, freePort, machine, root, round, runNode, runSuffix, SERVICE_KEY, waitFor, withCleanup, writeResults } from './lib.mjs';

const run = promisify(execFile);
const REQUESTS = Number(process.env.BENCH_GATEWAY_IR_REQUESTS ?? 300);
const ROUNDS = Number(process.env.BENCH_GATEWAY_IR_ROUNDS ?? 6);
/** Requests per side and caller while instrumentation is off, so V8 has optimised the hot code. */
const WARM_REQUESTS = Number(process.env.BENCH_GATEWAY_IR_WARM ?? 8000);
const CONNECTIONS = Number(process.env.BENCH_GATEWAY_IR_CONNECTIONS ?? 4);
/** Pairs of 200 and 304 windows (signed in, gateway on). */
const CACHE_ROUNDS = Number(process.env.BENCH_GATEWAY_IR_CACHE_ROUNDS ?? 2);
/**
 * Under valgrind the api runs ~100x slower, so what the api does per unit of wall time
 * would weigh ~100x more per request than at full speed: the limiter's sync to Redis (every
 * RATE_LIMIT_SYNC_MS: ~100-1000 requests per sync at this machine's saturated get rate, ~1
 * under valgrind) and the start of each rate-limit window. Both are stretched by
 * BENCH_GATEWAY_IR_SYNC_MS (200 times the default sync interval) and a one-hour window,
 * and the report gives the requests per sync this run saw. No deadline may cut a slow
 * request short.
 */
const SYNC_MS = Number(process.env.BENCH_GATEWAY_IR_SYNC_MS ?? 20_000);
const SLOW = {
  DATA_QUERY_TIMEOUT_MS: '0',
  HEADERS_TIMEOUT_MS: '600000',
  BODY_IDLE_TIMEOUT_MS: '600000',
  RATE_LIMIT_SYNC_MS: String(SYNC_MS),
  RATE_LIMIT_READS: '999999999/3600',
};
const ORIGIN = 'https://app.example.com';
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const suffix = runSuffix();
const startedAt = new Date();


/** Exactly `amount` GETs of `path` (autocannon), failing on anything but 200. */
async function drive(base, path, headers, amount, status = 200) {
  // Under valgrind a request can take seconds (a full GC, or valgrind translating new code).
  const r = await autocannon({ url: base, connections: CONNECTIONS, amount, timeout: 300, headers, requests: [{ method: 'GET', path }] });
  const answered = r.statusCodeStats?.[String(status)]?.count ?? 0;
  if (answered !== r.requests.total || r.errors > 0 || r.timeouts > 0) throw new Error(`${base}${path}: ${answered} of ${r.requests.total} answered ${status} (${JSON.stringify(r.statusCodeStats)}), ${r.errors} errors, ${r.timeouts} timeouts`);
  return r.requests.total;
}

const result = await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_gwir_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_gwir_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const out = await mkdtemp(join(os.tmpdir(), 'baas-bench-callgrind-'));
  if (!process.env.BENCH_KEEP_DUMPS) onCleanup(() => rm(out, { recursive: true, force: true }));

  const ports = { off: await freePort(), on: await freePort() };
  const sides = { off: { RATE_LIMIT_ENABLED: 'false' }, on: { CORS_ORIGINS: `${ORIGIN},https://*.example.org` } };
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${join(out, 'cg.%p')}`, process.execPath, 'bench/gateway-dual-api.mjs'],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...appEnv(db.url, prefix, SLOW), BENCH_DUAL_SIDES: JSON.stringify(sides), BENCH_DUAL_PORTS: JSON.stringify(ports) },
      stdio: ['ignore', 'ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore'],
      detached: true,
    },
  );
  onCleanup(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const bases = { off: `http://127.0.0.1:${ports.off}`, on: `http://127.0.0.1:${ports.on}` };
  for (const base of Object.values(bases)) await waitFor(`${base}/v1/health/ready`, 600_000, child);
  const control = (...args) => run('callgrind_control', [...args, String(child.pid)]);

  const service = { 'x-api-key': SERVICE_KEY };
  await call(bases.on, 'POST', '/v1/collections', {
    name: 'bench_items',
    fields: [{ name: 'title', type: 'string' }, { name: 'score', type: 'number' }, { name: 'body', type: 'string' }],
    rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
  }, service);
  const doc = await call(bases.on, 'POST', '/v1/collections/bench_items/documents', { title: 'a document', score: 42, body: 'x'.repeat(240) }, service);
  const path = `/v1/collections/bench_items/documents/${doc.id}`;
  const signup = await call(bases.on, 'POST', '/v1/auth/signup', { email: `bench-${suffix}@example.test`, password: 'correct horse battery staple' });
  const callers = { anonymous: {}, user: { authorization: `Bearer ${signup.accessToken}` } };
  const headersFor = (side, caller) => (side === 'on' ? { ...callers[caller], origin: ORIGIN } : callers[caller]);

  // The conditional GET (304) is warmed up too: its path is measured at the end.
  const etag = (await fetch(bases.on + path, { headers: headersFor('on', 'user') })).headers.get('etag');
  if (!etag) throw new Error('no ETag on the document');
  const conditional = { ...headersFor('on', 'user'), 'if-none-match': etag };
  for (const side of ['off', 'on']) for (const caller of Object.keys(callers)) await drive(bases[side], path, headersFor(side, caller), WARM_REQUESTS);
  await drive(bases.on, path, conditional, WARM_REQUESTS / 2, 304);
  await control('-i', 'on');
  // valgrind translates the code afresh once instrumentation is on; a few requests first.
  for (const side of ['off', 'on']) for (const caller of Object.keys(callers)) await drive(bases[side], path, headersFor(side, caller), 200);
  await drive(bases.on, path, conditional, 200, 304);

  let dumps = 0;
  const seconds = [];
  const window = async (side, caller, conditional = undefined) => {
    await control('-z');
    const t0 = performance.now();
    const headers = conditional ? { ...headersFor(side, caller), 'if-none-match': conditional } : headersFor(side, caller);
    const requests = await drive(bases[side], path, headers, REQUESTS, conditional ? 304 : 200);
    seconds.push((performance.now() - t0) / 1000);
    await control('-d');
    dumps++;
    const counts = await callgrindInstructions(join(out, `cg.${child.pid}.${dumps}`));
    const per = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / requests]));
    process.stderr.write(`${side} ${caller}${conditional ? ' 304' : ''}: ${Math.round(per.counted)} instructions per request (all ${Math.round(per.total)}, major GC ${Math.round(per.majorGc)}, optimizing compilers ${Math.round(per.compilers)})\n`);
    return per;
  };

  const overhead = {};
  for (const caller of Object.keys(callers)) {
    const pairs = [];
    for (let n = 0; n < ROUNDS; n++) {
      const order = n % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      const pair = {};
      for (const side of order) pair[side] = await window(side, caller);
      const [off, on] = [pair.off.counted, pair.on.counted];
      pairs.push({ order: order.join(' → '), off: Math.round(off), on: Math.round(on), costPercent: round(((on - off) / off) * 100, 2), all: { off: Math.round(pair.off.total), on: Math.round(pair.on.total) } });
    }
    overhead[caller] = {
      offPerRequest: Math.round(median(pairs.map((p) => p.off))),
      onPerRequest: Math.round(median(pairs.map((p) => p.on))),
      addedPerRequest: Math.round(median(pairs.map((p) => p.on - p.off))),
      costPercent: round(median(pairs.map((p) => p.costPercent)), 2),
      costRangePercent: [Math.min(...pairs.map((p) => p.costPercent)), Math.max(...pairs.map((p) => p.costPercent))],
      pairs,
    };
  }
  // 200 vs 304 (If-None-Match) of the same document: signed in, gateway on.
  const cachePairs = [];
  for (let n = 0; n < CACHE_ROUNDS; n++) {
    const order = n % 2 === 0 ? ['full', 'notModified'] : ['notModified', 'full'];
    const pair = {};
    for (const kind of order) pair[kind] = (await window('on', 'user', kind === 'full' ? undefined : etag)).counted;
    cachePairs.push({ order: order.join(' → '), full: Math.round(pair.full), notModified: Math.round(pair.notModified) });
  }
  const cache = {
    fullPerRequest: Math.round(median(cachePairs.map((p) => p.full))),
    notModifiedPerRequest: Math.round(median(cachePairs.map((p) => p.notModified))),
    cheaperInEveryPair: cachePairs.every((p) => p.notModified < p.full),
    pairs: cachePairs,
  };
  const rate = REQUESTS / median(seconds);
  return { overhead, cache, underValgrind: { requestsPerSec: round(rate, 1), syncMs: SYNC_MS, requestsPerSync: round((rate * SYNC_MS) / 1000, 0) } };
});

const report = {
  date: startedAt.toISOString(),
  machine: machine(),
  requestsPerWindow: REQUESTS,
  rounds: ROUNDS,
  warmRequests: WARM_REQUESTS,
  ...result,
  targets: {
    costPercentMax: 5,
    met: Object.values(result.overhead).every((o) => o.costPercent <= 5 && o.costRangePercent[1] <= 5),
    mediansWithin: Object.values(result.overhead).every((o) => o.costPercent <= 5),
    notModifiedCheaper: result.cache.cheaperInEveryPair,
  },
};
const o = report.overhead;
const fmt = (n) => n.toLocaleString('en-US');
const md = [
  '# Gateway cost in instructions',
  '',
  `Run ${report.date} by \`node bench/gateway-instructions.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}.`,
  `GET of one document by id (collection read rule \`public\`), one api process under valgrind (callgrind) hosting both sides, ${WARM_REQUESTS} requests per side and caller to warm up (uncounted), then ${ROUNDS} pairs of windows of ${REQUESTS} requests per caller (${CONNECTIONS} connections), alternating off → on and on → off. Instructions of the api process per request (JIT-compiled code included; Postgres and Redis not counted). "off": \`RATE_LIMIT_ENABLED=false\`, the default \`CORS_ORIGINS=*\`, no \`Origin\`; "on": every request counted with RateLimit headers, CORS against an origin list with an allowed \`Origin\`.`,
  '',
  '| caller | off: instructions / request | on: instructions / request | added | cost (median of pairs) | pairs |',
  '|---|---:|---:|---:|---:|---|',
  ...Object.entries(o).map(([caller, r]) => `| ${caller} | ${fmt(r.offPerRequest)} | ${fmt(r.onPerRequest)} | ${fmt(r.addedPerRequest)} | **${r.costPercent} %** | ${r.pairs.map((p) => `${p.costPercent} %`).join(', ')} |`),
  '',
  `Under valgrind the api answered ${report.underValgrind.requestsPerSec} requests/s; with \`RATE_LIMIT_SYNC_MS=${SYNC_MS}\` the limiter synced to Redis once per ~${report.underValgrind.requestsPerSync} requests (at full speed on this machine, ~2,000 gets/s with the default 100 ms: ~200), and the rate-limit window was one hour. Counted: every instruction of the api process except those of V8's major garbage collector and optimizing compilers, which run in bursts that land in one window or another (their share is in the JSON); the scavenger, which follows allocation, is counted.`,
  '',
  `Target: rate limiting and CORS cost ≤ 5 % of a get by id: ${report.targets.met ? 'met (the median and every pair)' : report.targets.mediansWithin ? '**not decided**: the medians are within it, but not every pair' : '**not met**'}.`,
  '',
  '## 304 vs 200 of the same document',
  '',
  `Signed in, gateway on, ${CACHE_ROUNDS} pairs of windows (200 → 304, 304 → 200, …): ${result.cache.notModifiedPerRequest.toLocaleString('en-US')} instructions per 304 against ${result.cache.fullPerRequest.toLocaleString('en-US')} per 200 (medians; pairs ${result.cache.pairs.map((p) => `${p.notModified.toLocaleString('en-US')} vs ${p.full.toLocaleString('en-US')}`).join(', ')}). A 304 cheaper in every pair: ${result.cache.cheaperInEveryPair ? 'yes' : '**no**'}.`,
  '',
].join('\n');
await writeResults('gateway-instructions', report, md);
process.stdout.write(md);
