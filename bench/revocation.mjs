// Revocation benchmark (issue 19): what the live session check costs on every signed-in
// request, and how soon a revoked session or a disabled user stops working on another replica.
//
//   npm run build && node bench/revocation.mjs          (BENCH_REVOCATION_CONNECTIONS=16 BENCH_DURATION=8)
//
// Two built api processes on one database and Redis. Cost: get-by-id of a public document as
// the same signed-in user, with the default session cache (AUTH_SESSION_CACHE_MS=2000: one
// Map lookup per request, Redis messages drop revoked entries on every replica) and with
// AUTH_SESSION_CACHE_MS=0 (the session and user rows read on every request); anonymous as the
// floor. Runs alternate (anonymous, cached, uncached, uncached, cached, anonymous) on the same
// api kind so drift hits all alike. Latency: logout (or an admin disabling the user) through
// api A, then the same token polled on api B every 2 ms until it gets 401; 20 times each.
// Results: bench/results/revocation.json and .md.
import { appEnv, call, cannon, createDatabase, dropRedisPrefix, machine, round, runNode, runSuffix, SERVICE_KEY, sleep, startApi, summary, withCleanup, writeResults, DURATION, WARMUP } from './lib.mjs';

const CONNECTIONS = Number(process.env.BENCH_REVOCATION_CONNECTIONS ?? 16);
const ROUNDS = 20;
const suffix = runSuffix();
const startedAt = new Date();
const loadBefore = machine().loadAverage;

const result = await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_revocation_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_revocation_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const cached = await startApi(appEnv(db.url, prefix));
  const other = await startApi(appEnv(db.url, prefix));
  const uncached = await startApi(appEnv(db.url, prefix, { AUTH_SESSION_CACHE_MS: '0' }));

  const service = { 'x-api-key': SERVICE_KEY };
  await call(cached.base, 'POST', '/v1/collections', {
    name: 'bench_items',
    fields: [{ name: 'title', type: 'string' }],
    rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
  }, service);
  const doc = await call(cached.base, 'POST', '/v1/collections/bench_items/documents', { title: 'a document' }, service);
  const path = `/v1/collections/bench_items/documents/${doc.id}`;
  let n = 0;
  const signIn = async () => {
    const email = `bench-${suffix}-${n++}@example.test`;
    const res = await call(cached.base, 'POST', '/v1/auth/signup', { email, password: 'correct horse battery staple' });
    return { id: res.user.id, token: res.accessToken };
  };
  const reader = await signIn();
  const user = { authorization: `Bearer ${reader.token}` };

  // ---- cost per request
  const get = async (api, headers) => {
    const opts = { url: api.base, connections: CONNECTIONS, headers, request: { method: 'GET', path } };
    if (WARMUP > 0) await cannon({ ...opts, duration: WARMUP });
    const r = await cannon(opts);
    if (r.errors > 0 || r.non2xx > 0) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`);
    return r;
  };
  const runs = { anonymous: [], cached: [], uncached: [] };
  for (const kind of ['anonymous', 'cached', 'uncached', 'uncached', 'cached', 'anonymous']) {
    runs[kind].push(await get(kind === 'uncached' ? uncached : cached, kind === 'anonymous' ? {} : user));
  }
  const mean = (rs, k) => round(rs.reduce((sum, r) => sum + r[k], 0) / rs.length, 1);
  const cost = Object.fromEntries(
    Object.entries(runs).map(([kind, rs]) => [kind, { requestsPerSec: mean(rs, 'requestsPerSec'), p50ms: mean(rs, 'p50ms'), p99ms: mean(rs, 'p99ms'), runs: rs }]),
  );

  // ---- revocation latency across replicas: act on `cached`, watch `other`
  const refusedAfter = async (token, act) => {
    const headers = { authorization: `Bearer ${token}` };
    const ok = await fetch(other.base + path, { headers });
    if (ok.status !== 200) throw new Error(`token refused before revocation: ${ok.status}`);
    const t0 = performance.now();
    await act();
    for (;;) {
      const res = await fetch(other.base + path, { headers });
      if (res.status === 401) return performance.now() - t0;
      if (performance.now() - t0 > 10_000) throw new Error('still accepted 10 s after revocation');
      await sleep(2);
    }
  };
  const logoutMs = [];
  const disableMs = [];
  for (let i = 0; i < ROUNDS; i++) {
    const s = await signIn();
    await fetch(other.base + path, { headers: { authorization: `Bearer ${s.token}` } }); // cached on B
    logoutMs.push(await refusedAfter(s.token, () => call(cached.base, 'POST', '/v1/auth/logout', undefined, { authorization: `Bearer ${s.token}` })));
    const d = await signIn();
    await fetch(other.base + path, { headers: { authorization: `Bearer ${d.token}` } });
    disableMs.push(await refusedAfter(d.token, () => call(cached.base, 'PATCH', `/v1/admin/users/${d.id}`, { disabled: true }, service)));
  }
  return { connections: CONNECTIONS, cost, revocation: { logoutMs: summary(logoutMs), disableMs: summary(disableMs) } };
});

const c = result.cost;
const costPercent = (kind) => round(((c.anonymous.requestsPerSec - c[kind].requestsPerSec) / c.anonymous.requestsPerSec) * 100, 1);
const report = {
  date: startedAt.toISOString(),
  machine: { ...machine(), loadAverageBefore: loadBefore },
  durationSec: DURATION,
  ...result,
  costVsAnonymousPercent: { cached: costPercent('cached'), uncached: costPercent('uncached') },
  targets: { revokedWithinSeconds: 2, met: result.revocation.logoutMs.max <= 2000 && result.revocation.disableMs.max <= 2000 },
};
const r = result.revocation;
const md = [
  '# Revocation benchmark',
  '',
  `Run ${report.date} by \`node bench/revocation.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node} (load average before: ${loadBefore.join(' / ')}).`,
  `Get by id of a public document, ${result.connections} connections, ${DURATION} s per run after ${WARMUP} s warm-up, runs alternated and averaged; api, Postgres, Redis and autocannon share the machine.`,
  '',
  '## What the live session check costs',
  '',
  '| caller | req/s | p50 | p99 | vs anonymous |',
  '|---|---|---|---|---|',
  `| anonymous (no check) | ${c.anonymous.requestsPerSec} | ${c.anonymous.p50ms} ms | ${c.anonymous.p99ms} ms | |`,
  `| signed in, session cache on (default, 2 s) | ${c.cached.requestsPerSec} | ${c.cached.p50ms} ms | ${c.cached.p99ms} ms | -${report.costVsAnonymousPercent.cached} % |`,
  `| signed in, \`AUTH_SESSION_CACHE_MS=0\` (rows read every request) | ${c.uncached.requestsPerSec} | ${c.uncached.p50ms} ms | ${c.uncached.p99ms} ms | -${report.costVsAnonymousPercent.uncached} % |`,
  '',
  'The signed-in rows also pay the JWT verification, which anonymous requests do not.',
  '',
  '## How soon a revoked token stops on another replica',
  '',
  `Revoked through api A, the same access token polled on api B (which had it cached) every 2 ms; ${r.logoutMs.n} rounds each.`,
  '',
  '| action | p50 | p99 | max |',
  '|---|---|---|---|',
  `| logout (session revoked) | ${r.logoutMs.p50} ms | ${r.logoutMs.p99} ms | ${r.logoutMs.max} ms |`,
  `| admin disables the user | ${r.disableMs.p50} ms | ${r.disableMs.p99} ms | ${r.disableMs.max} ms |`,
  '',
  `Target: refused within seconds on every replica (≤ 2 s, the cache period, even if a Redis message were lost): ${report.targets.met ? 'met' : '**not met**'}.`,
].join('\n');
await writeResults('revocation', report, md);
console.log(md);
