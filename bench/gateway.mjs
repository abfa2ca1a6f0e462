// Gateway benchmark: what rate limiting and CORS cost on get-by-id, and a 304 against a 200
// of the same document.
//
//   npm run build && node bench/gateway.mjs   (BENCH_GATEWAY_CONNECTIONS=32 BENCH_DURATION=8 BENCH_GATEWAY_ROUNDS=24 BENCH_GATEWAY_SLICE=2 BENCH_GATEWAY_RATE=0)
//
// Two built api processes on one database and Redis, each hosting both sides
// (bench/gateway-dual-api.mjs): "on" with the gateway's rate limits (a budget far above the
// load, so every request is counted and none is refused) and a CORS origin list, driven with
// an allowed `Origin`; "off" with RATE_LIMIT_ENABLED=false, driven without `Origin` (the CORS
// hook then only sees there is no origin). Two identical processes differ by up to ±20 % in
// CPU per request on this machine, so a side in its own process would compare processes.
// After a warm-up of both sides, each caller kind (anonymous: limited per address; user: a
// bearer token, limited per user) runs BENCH_GATEWAY_ROUNDS pairs of adjacent short slices
// (BENCH_GATEWAY_SLICE s, off/on in alternating order, on alternating processes); the cost
// is the median of the pairs' costs in the process's CPU per request, with a bootstrap 95 %
// interval that says whether the run decides the 5 % target. Then 200 vs 304
// (If-None-Match) of one document on "on", in the same alternating order.
// Results: bench/results/gateway.json and .md.
import { readdir, readFile } from 'node:fs/promises';
import { appEnv, call, cannon, createDatabase, dropRedisPrefix, freePort, machine, round, runNode, runSuffix, SERVICE_KEY, startNode, waitFor, withCleanup, writeResults, DURATION, WARMUP } from './lib.mjs';

/**
 * CPU seconds a process has used so far, summed over its threads from /proc (Linux; the
 * scheduler's nanosecond counts, not the 10 ms ticks of /proc/<pid>/stat, since a slice
 * here is short).
 */
async function cpuSeconds(pid) {
  let ns = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '0');
    ns += Number(stat.split(' ')[0]);
  }
  return ns / 1e9;
}

const CONNECTIONS = Number(process.env.BENCH_GATEWAY_CONNECTIONS ?? 32);
/** Seconds each api process is driven (both caller kinds together) before the measured runs. */
const PROCESS_WARMUP = Number(process.env.BENCH_GATEWAY_PROCESS_WARMUP ?? 10);
/** Off/on pairs per caller kind (alternating processes and which side runs first). */
const ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 24);
/** Seconds of each side in a pair: short, so that both sides of a pair see the same machine. */
const SLICE = Number(process.env.BENCH_GATEWAY_SLICE ?? 2);
/** Requests per second of each measured run; 0: as fast as the api answers (saturated). */
const RATE = Number(process.env.BENCH_GATEWAY_RATE ?? 0);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : round((s[m - 1] + s[m]) / 2, 1);
};
/** 95 % bootstrap interval of the median of `xs` (2000 resamples). */
const medianInterval = (xs) => {
  const medians = Array.from({ length: 2000 }, () => median(xs.map(() => xs[Math.floor(Math.random() * xs.length)])));
  medians.sort((a, b) => a - b);
  return [medians[50], medians[1949]];
};
const ORIGIN = 'https://app.example.com';
const suffix = runSuffix();
const startedAt = new Date();
const loadBefore = machine().loadAverage;

const result = await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_gateway_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_gateway_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  // appEnv's budgets are out of reach, so "on" counts every request without refusing any.
  // Each api process hosts both sides (bench/gateway-dual-api.mjs): one process can run up
  // to ±20 % faster or slower than an identical one, so sides in separate processes compare
  // processes, not configurations. Two such processes; the pairs alternate between them.
  const baseEnv = appEnv(db.url, prefix);
  const sides = { off: { RATE_LIMIT_ENABLED: 'false' }, on: { CORS_ORIGINS: `${ORIGIN},https://*.example.org` } };
  const processes = { on: [], off: [] };
  for (let i = 0; i < 2; i++) {
    const ports = { off: await freePort(), on: await freePort() };
    const child = startNode(['bench/gateway-dual-api.mjs'], { ...baseEnv, BENCH_DUAL_SIDES: JSON.stringify(sides), BENCH_DUAL_PORTS: JSON.stringify(ports) });
    for (const side of ['off', 'on']) {
      const base = `http://127.0.0.1:${ports[side]}`;
      await waitFor(`${base}/v1/health/ready`, 60_000, child);
      processes[side].push({ child, base });
    }
  }
  const [on] = processes.on;

  const service = { 'x-api-key': SERVICE_KEY };
  await call(on.base, 'POST', '/v1/collections', {
    name: 'bench_items',
    fields: [{ name: 'title', type: 'string' }, { name: 'score', type: 'number' }, { name: 'body', type: 'string' }],
    rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
  }, service);
  const doc = await call(on.base, 'POST', '/v1/collections/bench_items/documents', { title: 'a document', score: 42, body: 'x'.repeat(240) }, service);
  const path = `/v1/collections/bench_items/documents/${doc.id}`;
  const signup = await call(on.base, 'POST', '/v1/auth/signup', { email: `bench-${suffix}@example.test`, password: 'correct horse battery staple' });
  const user = { authorization: `Bearer ${signup.accessToken}` };

  // Throughput moves with whatever else the shared machine runs; the api's own CPU time per
  // answered request (from /proc) is what the gateway adds, and much steadier.
  const get = async (api, headers, { warm = true, duration = DURATION } = {}) => {
    const opts = { url: api.base, connections: CONNECTIONS, duration, headers, request: { method: 'GET', path }, ...(RATE > 0 ? { overallRate: RATE } : {}) };
    if (warm && WARMUP > 0) await cannon({ ...opts, duration: WARMUP });
    const before = await cpuSeconds(api.child.pid);
    const r = await cannon(opts);
    const cpu = (await cpuSeconds(api.child.pid)) - before;
    return { ...r, apiCpuSeconds: round(cpu, 2), apiCpuMicrosPerRequest: round((cpu * 1e6) / r.requests, 1) };
  };
  const check = (label, r, status = '2xx') => {
    if (r.errors > 0 || (status === '2xx' && r.non2xx > 0)) throw new Error(`${label}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return r;
  };

  const mean = (rs, k) => round(rs.reduce((sum, r) => sum + r[k], 0) / rs.length, 1);
  const callers = { anonymous: {}, user };
  // Both processes warm up on both caller kinds before anything is measured: a process that
  // has served fewer requests runs less optimised code, which is not what the gateway costs.
  for (const [side, apis] of Object.entries(processes)) {
    for (const api of apis) {
      for (const headers of Object.values(callers)) {
        await cannon({ url: api.base, connections: CONNECTIONS, duration: PROCESS_WARMUP / 2, headers: side === 'on' ? { ...headers, origin: ORIGIN } : headers, request: { method: 'GET', path } });
      }
    }
  }
  // Pairs of adjacent runs (off then on, or on then off, on alternating processes): the
  // machine is shared, and what else runs moves CPU per request by more than the gateway
  // costs within a minute, so each pair's own ratio is taken, and the median of the pairs'
  // costs is the figure (the means of each side are kept beside it).
  const overhead = {};
  for (const [kind, headers] of Object.entries(callers)) {
    const runs = { off: [], on: [] };
    const pairs = [];
    for (let n = 0; n < ROUNDS; n++) {
      const i = n % 2;
      const order = n % 4 < 2 ? ['off', 'on'] : ['on', 'off'];
      const pair = {};
      for (const side of order) {
        const api = processes[side][i];
        const h = side === 'on' ? { ...headers, origin: ORIGIN } : headers;
        pair[side] = check(`${kind} ${side}`, await get(api, h, { warm: false, duration: SLICE }));
        runs[side].push(pair[side]);
      }
      pairs.push({
        process: i + 1,
        order: order.join(' → '),
        offMicros: pair.off.apiCpuMicrosPerRequest,
        onMicros: pair.on.apiCpuMicrosPerRequest,
        addedMicros: round(pair.on.apiCpuMicrosPerRequest - pair.off.apiCpuMicrosPerRequest, 1),
        costPercent: round(((pair.on.apiCpuMicrosPerRequest - pair.off.apiCpuMicrosPerRequest) / pair.off.apiCpuMicrosPerRequest) * 100, 1),
      });
    }
    const offRps = mean(runs.off, 'requestsPerSec');
    const onRps = mean(runs.on, 'requestsPerSec');
    const offCpu = mean(runs.off, 'apiCpuMicrosPerRequest');
    const onCpu = mean(runs.on, 'apiCpuMicrosPerRequest');
    const costs = pairs.map((p) => p.costPercent);
    const interval = medianInterval(costs);
    overhead[kind] = {
      off: { requestsPerSec: offRps, p50ms: mean(runs.off, 'p50ms'), p99ms: mean(runs.off, 'p99ms'), apiCpuMicrosPerRequest: offCpu, runs: runs.off },
      on: { requestsPerSec: onRps, p50ms: mean(runs.on, 'p50ms'), p99ms: mean(runs.on, 'p99ms'), apiCpuMicrosPerRequest: onCpu, runs: runs.on },
      pairs,
      throughputCostPercent: round(((offRps - onRps) / offRps) * 100, 1),
      meanCostPercent: round(((onCpu - offCpu) / offCpu) * 100, 1),
      costPercent: median(costs),
      addedMicros: median(pairs.map((p) => p.addedMicros)),
      costRangePercent: [Math.min(...costs), Math.max(...costs)],
      // The median's 95 % interval (bootstrap over the pairs) on one side of the target:
      // this run decides it; otherwise the machine's noise in this run is wider than what
      // is being judged.
      costInterval: interval,
      decisive: interval[1] <= 5 || interval[0] > 5,
    };
  }

  const first = await fetch(on.base + path, { headers: user });
  const etag = first.headers.get('etag');
  if (first.status !== 200 || !etag) throw new Error('no ETag on the document');
  const conditional = await fetch(on.base + path, { headers: { ...user, 'if-none-match': etag } });
  if (conditional.status !== 304) throw new Error(`If-None-Match answered ${conditional.status}`);
  // 200, 304, 304, 200 (means of two runs each), like the overhead runs above.
  const cacheRuns = { full: [], notModified: [] };
  for (const kind of ['full', 'notModified', 'notModified', 'full']) {
    if (kind === 'full') {
      cacheRuns.full.push(check('200', await get(on, { ...user, origin: ORIGIN })));
      continue;
    }
    // autocannon counts 304 as non-2xx; every answer must be a 304, so non2xx must equal requests.
    const r = await get(on, { ...user, origin: ORIGIN, 'if-none-match': etag });
    if (r.errors > 0 || r.non2xx !== r.requests) throw new Error(`304 run: ${r.non2xx} of ${r.requests} not 2xx, ${r.errors} errors`);
    cacheRuns.notModified.push(r);
  }
  const avg = (rs) => ({
    requestsPerSec: mean(rs, 'requestsPerSec'),
    p50ms: mean(rs, 'p50ms'),
    p99ms: mean(rs, 'p99ms'),
    apiCpuMicrosPerRequest: mean(rs, 'apiCpuMicrosPerRequest'),
    runs: rs,
  });
  const cache = { full: avg(cacheRuns.full), notModified: avg(cacheRuns.notModified) };
  return { connections: CONNECTIONS, documentBytes: (await first.text()).length, overhead, cache };
});

const report = {
  date: startedAt.toISOString(),
  machine: { ...machine(), loadAverageBefore: loadBefore },
  durationSec: DURATION,
  warmupSec: WARMUP,
  ...result,
  targets: {
    rateLimitAndCorsCostPercentMax: 5,
    met: Object.values(result.overhead).every((o) => o.costPercent <= 5),
    decisive: Object.values(result.overhead).every((o) => o.decisive),
    notModifiedCheaper: result.cache.notModified.apiCpuMicrosPerRequest < result.cache.full.apiCpuMicrosPerRequest,
  },
};
const o = report.overhead;
const row = (kind) =>
  `| ${kind} | ${o[kind].off.requestsPerSec} req/s (p50 ${o[kind].off.p50ms} / p99 ${o[kind].off.p99ms} ms), ${o[kind].off.apiCpuMicrosPerRequest} µs CPU/req | ${o[kind].on.requestsPerSec} req/s (p50 ${o[kind].on.p50ms} / p99 ${o[kind].on.p99ms} ms), ${o[kind].on.apiCpuMicrosPerRequest} µs CPU/req | ${o[kind].throughputCostPercent} % | ${o[kind].meanCostPercent} % | **${o[kind].costPercent} %** (95 % interval ${o[kind].costInterval[0]} … ${o[kind].costInterval[1]} %; +${o[kind].addedMicros} µs; pairs ${o[kind].costRangePercent[0]} … ${o[kind].costRangePercent[1]} %) |`;
const pairRows = (kind) => o[kind].pairs.map((p, n) => `| ${kind} | ${n + 1} | ${p.process} | ${p.order} | ${p.offMicros} | ${p.onMicros} | ${p.addedMicros} | ${p.costPercent} % |`);
const c = report.cache;
const spread = Object.entries(o).map(([kind, k]) => `${kind} ${k.costInterval[0]} … ${k.costInterval[1]} %`).join(', ');
const verdict = report.targets.decisive
  ? report.targets.met
    ? `met (the medians' 95 % intervals: ${spread})`
    : `**not met** (the medians' 95 % intervals: ${spread})`
  : `the medians are ${report.targets.met ? 'within' : '**above**'} it, but their 95 % intervals (${spread}) include it, so this run does not decide it`;
const md = [
  '# Gateway benchmark',
  '',
  `Run ${report.date} by \`node bench/gateway.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node} (load average before: ${loadBefore.join(' / ')}; the machine is shared with other work, so figures move by several percent between runs).`,
  `GET of one document by id (${report.documentBytes} bytes of JSON, collection read rule \`public\`), ${report.connections} connections, ${report.durationSec} s per run after ${report.warmupSec} s warm-up; api, Postgres, Redis and autocannon share the 2 cores.`,
  '',
  '## Rate limiting + CORS',
  '',
  '"off": `RATE_LIMIT_ENABLED=false` and the default `CORS_ORIGINS=*` (allow-origin `*` and the expose list on every answer), no `Origin` sent. "on": every request counted (per address, or per user after verifying the token; in memory on each replica, added to Redis every 100 ms) with RateLimit headers, and CORS against an origin list with an allowed `Origin` (allow-origin, expose-headers, `Vary`). Both sides live in the same api process (`bench/gateway-dual-api.mjs`: two apps, one per configuration), since two identical processes differ by up to ±20 % in CPU per request; two such processes, each side warmed up for ' + PROCESS_WARMUP + ` s; then ${ROUNDS} pairs of adjacent ${SLICE} s slices per caller (off → on, off → on, on → off, on → off, …, on process 1, 2, 1, 2, …). Each pair gives a cost (on − off CPU per request of the process, over off; CPU from the scheduler's per-thread counters); the figure is the median of the pairs with its 95 % bootstrap interval, since a pair sees the same machine and the means of each side do not.`,
  '',
  '| caller | off (mean) | on (mean) | throughput cost (means) | CPU cost (means) | api CPU cost per request (median of pairs) |',
  '|---|---|---|---|---|---|',
  row('anonymous'),
  row('user'),
  '',
  '<details><summary>Pairs (api CPU µs per request)</summary>',
  '',
  '| caller | pair | process | order | off | on | added | cost |',
  '|---|---|---|---|---|---|---|---|',
  ...pairRows('anonymous'),
  ...pairRows('user'),
  '',
  '</details>',
  '',
  `Target: cost ≤ 5 %, judged on the api's CPU time per request (throughput on this shared machine moves by more than 5 % between identical runs): ${verdict}. Counting also costs Redis a little CPU (one increment per caller and group every 100 ms from each replica), which this figure does not include.`,
  '',
  '## 304 vs 200 of the same document',
  '',
  'Signed-in user, gateway on; runs in the order 200, 304, 304, 200; means of two runs each.',
  '',
  '| answer | req/s | p50 | p99 | api CPU per request |',
  '|---|---|---|---|---|',
  `| 200 (full body) | ${c.full.requestsPerSec} | ${c.full.p50ms} ms | ${c.full.p99ms} ms | ${c.full.apiCpuMicrosPerRequest} µs |`,
  `| 304 (If-None-Match) | ${c.notModified.requestsPerSec} | ${c.notModified.p50ms} ms | ${c.notModified.p99ms} ms | ${c.notModified.apiCpuMicrosPerRequest} µs |`,
  '',
  `A 304 runs the query and the read check, then answers before the document is shaped and serialized; it also saves the body on the wire (and its compression for larger answers). Cheaper than a 200 (api CPU per request): ${report.targets.notModifiedCheaper ? 'yes' : '**no**'}.`,
  '',
].join('\n');
await writeResults('gateway', report, md);
process.stdout.write(md);
