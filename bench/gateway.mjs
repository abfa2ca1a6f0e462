// Gateway benchmark: what rate limiting and CORS cost on get-by-id, and a 304 against a 200
// of the same document.
//
//   npm run build && node bench/gateway.mjs
//   (BENCH_GATEWAY_PROCESSES=4 BENCH_GATEWAY_CONNECTIONS=8 BENCH_GATEWAY_WINDOW=400
//    BENCH_GATEWAY_ROUNDS=200 BENCH_GATEWAY_WARM_WINDOWS=25)
//
// BENCH_GATEWAY_PROCESSES built api processes on one database and Redis, each hosting both sides
// (bench/gateway-dual-api.mjs): "on" with the gateway's rate limits (a budget far above the
// load, so every request is counted and none is refused) and a CORS origin list, driven with
// an allowed `Origin`; "off" with RATE_LIMIT_ENABLED=false, driven without `Origin` (the CORS
// hook then only sees there is no origin). Two identical processes differ by up to ±20 % in
// CPU per request on this machine, so a side in its own process would compare processes;
// and within one process the two apps' relative cost still moves by a few % from process to
// process (how the same code was laid out and optimised), so there are several, half of
// them creating the "off" app first and half the "on" app.
//
// What moves on this machine is the time a request takes, by up to ±50 % between adjacent
// 2 s runs of a load generator, mostly from how requests happen to batch per event-loop turn
// at saturation. So the load here is a lean keep-alive client in this process (prepared
// request bytes, one request in flight per connection, BENCH_GATEWAY_CONNECTIONS
// connections per side, open for the whole run), and a measurement is a window of
// BENCH_GATEWAY_WINDOW requests (a few hundred milliseconds) that drains before the next
// begins: no request of one side is in flight during the other's window. Each process in
// turn runs its share of BENCH_GATEWAY_ROUNDS pairs per caller kind, in the order off → on,
// on → off, off → on, … (the first window after a switch pays for caches the other side
// filled; this order gives each side as many switches as the other), after two unmeasured
// windows (the first after another process ran is slower again) (anonymous: limited per address; user: a bearer token, limited per user);
// the cost is the median of the pairs' costs in the process's CPU per request (per-thread
// scheduler counters), with a bootstrap 95 % interval that says whether the run decides the
// 5 % target. Then 200 vs 304 (If-None-Match) of one document on "on", the same way.
// Results: bench/results/gateway.json and .md.
import { readdir, readFile } from 'node:fs/promises';
import { appEnv, call, createDatabase, dropRedisPrefix, freePort, keepAliveClient, machine, round, runNode, runSuffix, SERVICE_KEY, startNode, waitFor, withCleanup, writeResults } from './lib.mjs';

/**
 * CPU nanoseconds a process has used so far, summed over its threads from /proc (Linux; the
 * scheduler's nanosecond counts, not the 10 ms ticks of /proc/<pid>/stat, since a window here
 * is short).
 */
async function cpuNanos(pid) {
  let ns = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '0');
    ns += Number(stat.split(' ')[0]);
  }
  return ns;
}

const CONNECTIONS = Number(process.env.BENCH_GATEWAY_CONNECTIONS ?? 8);
/** Requests per window (a few hundred milliseconds here). */
const WINDOW = Number(process.env.BENCH_GATEWAY_WINDOW ?? 400);
/** api processes, each hosting both sides (half create "off" first, half "on"). */
const PROCESSES = Number(process.env.BENCH_GATEWAY_PROCESSES ?? 4);
/** Off/on pairs of windows per caller kind, shared out over the processes. */
const ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 200);
/** Windows of each side and caller on each process before anything is measured. */
const WARM_WINDOWS = Number(process.env.BENCH_GATEWAY_WARM_WINDOWS ?? 25);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** 95 % bootstrap interval of the median of `xs` (2000 resamples). */
const medianInterval = (xs) => {
  const medians = Array.from({ length: 2000 }, () => median(xs.map(() => xs[Math.floor(Math.random() * xs.length)])));
  medians.sort((a, b) => a - b);
  return [round(medians[50], 2), round(medians[1949], 2)];
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
  const baseEnv = appEnv(db.url, prefix);
  const off = { RATE_LIMIT_ENABLED: 'false' };
  const on = { CORS_ORIGINS: `${ORIGIN},https://*.example.org` };
  const processes = [];
  for (let i = 0; i < PROCESSES; i++) {
    const ports = { off: await freePort(), on: await freePort() };
    // The apps are created in the sides' key order.
    const sides = i % 2 === 0 ? { off, on } : { on, off };
    const child = startNode(['bench/gateway-dual-api.mjs'], { ...baseEnv, BENCH_DUAL_SIDES: JSON.stringify(sides), BENCH_DUAL_PORTS: JSON.stringify(ports) });
    for (const port of Object.values(ports)) await waitFor(`http://127.0.0.1:${port}/v1/health/ready`, 60_000, child);
    processes.push({ number: i + 1, pid: child.pid, ports, clients: new Map() });
  }
  onCleanup(() => processes.forEach((p) => [...p.clients.values()].flat().forEach((c) => c.close())));

  const base = `http://127.0.0.1:${processes[0].ports.on}`;
  const service = { 'x-api-key': SERVICE_KEY };
  await call(base, 'POST', '/v1/collections', {
    name: 'bench_items',
    fields: [{ name: 'title', type: 'string' }, { name: 'score', type: 'number' }, { name: 'body', type: 'string' }],
    rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
  }, service);
  const doc = await call(base, 'POST', '/v1/collections/bench_items/documents', { title: 'a document', score: 42, body: 'x'.repeat(240) }, service);
  const path = `/v1/collections/bench_items/documents/${doc.id}`;
  const signup = await call(base, 'POST', '/v1/auth/signup', { email: `bench-${suffix}@example.test`, password: 'correct horse battery staple' });
  const user = { authorization: `Bearer ${signup.accessToken}` };
  const first = await fetch(base + path, { headers: { ...user, origin: ORIGIN } });
  const etag = first.headers.get('etag');
  if (first.status !== 200 || !etag) throw new Error('no ETag on the document');
  const documentBytes = (await first.text()).length;

  /** The requests measured: a caller kind on a side, and the conditional GET. */
  const callers = { anonymous: {}, user };
  const requests = {};
  for (const [kind, headers] of Object.entries(callers)) {
    requests[`${kind}/off`] = { side: 'off', headers, status: 200 };
    requests[`${kind}/on`] = { side: 'on', headers: { ...headers, origin: ORIGIN }, status: 200 };
  }
  requests['user/on/304'] = { side: 'on', headers: { ...user, origin: ORIGIN, 'if-none-match': etag }, status: 304 };
  const bytesOf = ({ headers }) => `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

  /** One window of WINDOW requests of `key` on a process, drained: its api CPU per request and rate. */
  const measure = async (proc, key) => {
    const request = requests[key];
    // Connections are opened (again, after the api closed idle ones) before the window.
    const clients = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, i) => {
        const client = proc.clients.get(key)?.[i];
        return client?.open ? client : keepAliveClient(proc.ports[request.side], bytesOf(request));
      }),
    );
    proc.clients.set(key, clients);
    let issued = 0;
    const before = await cpuNanos(proc.pid);
    const t0 = process.hrtime.bigint();
    await Promise.all(
      clients.map(async (client) => {
        while (issued < WINDOW) {
          issued++;
          const status = await client.send();
          if (status !== request.status) throw new Error(`${key}: answered ${status}, expected ${request.status}`);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = (await cpuNanos(proc.pid)) - before;
    return { micros: cpu / 1e3 / WINDOW, requestsPerSec: WINDOW / seconds };
  };

  // Every process serves every request kind before anything is measured: a process that has
  // served fewer requests runs less optimised code, which is not what the gateway costs.
  for (const proc of processes) for (let w = 0; w < WARM_WINDOWS; w++) for (const key of Object.keys(requests)) await measure(proc, key);

  /**
   * `rounds` pairs of adjacent windows of `a` and `b`, each process in turn (a → b, b → a,
   * a → b, …, after two unmeasured windows); each pair's cost is b's CPU per request over
   * a's, minus one, in %.
   */
  const compare = async (a, b, rounds) => {
    const pairs = [];
    for (const proc of processes) {
      await measure(proc, b);
      await measure(proc, a);
      for (let n = 0; n < Math.ceil(rounds / processes.length); n++) {
        const got = {};
        for (const key of n % 2 === 0 ? [a, b] : [b, a]) got[key] = await measure(proc, key);
        pairs.push({ process: proc.number, first: n % 2 === 0 ? 'a' : 'b', a: got[a], b: got[b], costPercent: ((got[b].micros - got[a].micros) / got[a].micros) * 100 });
      }
    }
    const costs = pairs.map((p) => p.costPercent);
    const mean = (side, k) => round(pairs.reduce((sum, p) => sum + p[side][k], 0) / pairs.length, 1);
    const q = (f) => round([...costs].sort((x, y) => x - y)[Math.floor(f * (costs.length - 1))], 1);
    return {
      a: { requestsPerSec: mean('a', 'requestsPerSec'), apiCpuMicrosPerRequest: mean('a', 'micros') },
      b: { requestsPerSec: mean('b', 'requestsPerSec'), apiCpuMicrosPerRequest: mean('b', 'micros') },
      costPercent: round(median(costs), 2),
      costInterval: medianInterval(costs),
      addedMicros: round(median(pairs.map((p) => p.b.micros - p.a.micros)), 1),
      quartilesPercent: [q(0.25), q(0.75)],
      /** The median pair of each process: how far the processes' layouts move the figure. */
      perProcessPercent: processes.map((proc) => round(median(pairs.filter((p) => p.process === proc.number).map((p) => p.costPercent)), 2)),
      pairs: pairs.map((p) => ({ process: p.process, first: p.first, aMicros: round(p.a.micros, 1), bMicros: round(p.b.micros, 1), costPercent: round(p.costPercent, 2) })),
    };
  };

  const overhead = {};
  for (const kind of Object.keys(callers)) {
    const c = await compare(`${kind}/off`, `${kind}/on`, ROUNDS);
    overhead[kind] = {
      off: c.a,
      on: c.b,
      throughputCostPercent: round(((c.a.requestsPerSec - c.b.requestsPerSec) / c.a.requestsPerSec) * 100, 1),
      meanCostPercent: round(((c.b.apiCpuMicrosPerRequest - c.a.apiCpuMicrosPerRequest) / c.a.apiCpuMicrosPerRequest) * 100, 1),
      costPercent: c.costPercent,
      costInterval: c.costInterval,
      addedMicros: c.addedMicros,
      quartilesPercent: c.quartilesPercent,
      perProcessPercent: c.perProcessPercent,
      // The median's 95 % interval (bootstrap over the pairs) on one side of the target:
      // this run decides it; otherwise the machine's noise in this run is wider than what
      // is being judged.
      decisive: c.costInterval[1] <= 5 || c.costInterval[0] > 5,
      pairs: c.pairs,
    };
  }
  const cached = await compare('user/on', 'user/on/304', ROUNDS / 2);
  const { a: full, b: notModified, ...comparison } = cached;
  const cache = { full, notModified, ...comparison };
  return { processes: PROCESSES, connections: CONNECTIONS, window: WINDOW, rounds: ROUNDS, documentBytes, overhead, cache };
});

const report = {
  date: startedAt.toISOString(),
  machine: { ...machine(), loadAverageBefore: loadBefore },
  ...result,
  targets: {
    rateLimitAndCorsCostPercentMax: 5,
    met: Object.values(result.overhead).every((o) => o.costPercent <= 5),
    decisive: Object.values(result.overhead).every((o) => o.decisive),
    // The 304's CPU per request below the 200's in the median pair, with the interval below 0.
    notModifiedCheaper: result.cache.costInterval[1] < 0,
  },
};
const o = report.overhead;
const c = report.cache;
const signed = (n) => (n < 0 ? `−${-n}` : `+${n}`);
const row = (kind) =>
  `| ${kind} | ${o[kind].off.requestsPerSec} req/s, ${o[kind].off.apiCpuMicrosPerRequest} µs CPU/req | ${o[kind].on.requestsPerSec} req/s, ${o[kind].on.apiCpuMicrosPerRequest} µs CPU/req | ${o[kind].throughputCostPercent} % | ${o[kind].meanCostPercent} % | **${o[kind].costPercent} %** (95 % interval ${o[kind].costInterval[0]} … ${o[kind].costInterval[1]} %; ${signed(o[kind].addedMicros)} µs; half the pairs within ${o[kind].quartilesPercent[0]} … ${o[kind].quartilesPercent[1]} %; per process ${o[kind].perProcessPercent.join(' / ')} %) |`;
const spread = Object.entries(o).map(([kind, k]) => `${kind} ${k.costInterval[0]} … ${k.costInterval[1]} %`).join(', ');
const verdict = report.targets.decisive
  ? report.targets.met
    ? `met (the medians' 95 % intervals: ${spread})`
    : `**not met** (the medians' 95 % intervals: ${spread})`
  : `the medians are ${report.targets.met ? 'within' : '**above**'} it, but their 95 % intervals (${spread}) include it, so this run does not decide it`;
const md = [
  '# Gateway benchmark',
  '',
  `Run ${report.date} by \`node bench/gateway.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node} (load average before: ${loadBefore.join(' / ')}; the machine is shared with other work).`,
  `GET of one document by id (${report.documentBytes} bytes of JSON, collection read rule \`public\`); api, Postgres, Redis and the load generator share the 2 cores.`,
  '',
  '## Rate limiting + CORS',
  '',
  `"off": \`RATE_LIMIT_ENABLED=false\` and the default \`CORS_ORIGINS=*\` (allow-origin \`*\` and the expose list on every answer), no \`Origin\` sent. "on": every request counted (per address, or per user after verifying the token; in memory on each replica, added to Redis every 100 ms) with RateLimit headers, and CORS against an origin list with an allowed \`Origin\` (allow-origin, expose-headers, \`Vary\`). Both sides live in the same api process (\`bench/gateway-dual-api.mjs\`: two apps, one per configuration), since two identical processes differ by up to ±20 % in CPU per request; ${report.processes} such processes, half of them creating the "off" app first. Load: a lean keep-alive client in the benchmark process, ${report.connections} connections per side, one request in flight per connection. Each measurement is a window of ${report.window} requests that drains before the next starts; after ${WARM_WINDOWS} warm-up windows of every kind on each process, ${report.rounds} pairs of adjacent off/on windows per caller, each process in turn (off → on, on → off, off → on, …: the first window after a switch pays for caches the other side filled, and this order gives both sides as many switches; two unmeasured windows first). Each pair gives a cost (on − off CPU per request of the process, over off; CPU from the scheduler's per-thread counters); the figure is the median of the pairs with its 95 % bootstrap interval, since a pair sees the same machine and the means of each side do not. Every pair is in the JSON.`,
  '',
  '| caller | off (mean) | on (mean) | throughput cost (means) | CPU cost (means) | api CPU cost per request (median of pairs) |',
  '|---|---|---|---|---|---|',
  row('anonymous'),
  row('user'),
  '',
  `Target: cost ≤ 5 %, judged on the api's CPU time per request (throughput on this shared machine moves by more than 5 % between identical runs): ${verdict}. Counting also costs Redis a little CPU (one increment per caller and group every 100 ms from each replica), which this figure does not include.`,
  '',
  '## 304 vs 200 of the same document',
  '',
  `Signed-in user, gateway on; ${c.pairs.length} pairs of adjacent windows as above.`,
  '',
  '| answer | req/s (mean) | api CPU per request (mean) |',
  '|---|---|---|',
  `| 200 (full body) | ${c.full.requestsPerSec} | ${c.full.apiCpuMicrosPerRequest} µs |`,
  `| 304 (If-None-Match) | ${c.notModified.requestsPerSec} | ${c.notModified.apiCpuMicrosPerRequest} µs |`,
  '',
  `A 304 runs the query and the read check, then answers before the document is shaped and serialized; it also saves the body on the wire (and its compression for larger answers). A 304 against a 200 of the same document, median of the pairs: **${c.costPercent} %** of api CPU per request (95 % interval ${c.costInterval[0]} … ${c.costInterval[1]} %; per process ${c.perProcessPercent.join(' / ')} %). Cheaper: ${report.targets.notModifiedCheaper ? 'yes' : '**not shown by this run**'}.`,
  '',
].join('\n');
await writeResults('gateway', report, md);
process.stdout.write(md);
