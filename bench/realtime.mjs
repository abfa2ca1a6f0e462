// Realtime benchmark (issue 15): commit → event latency with 1000 open subscriptions on one
// api process, fan-out of one change to 1000 subscribers, memory per idle connection.
//
//   npm run build && node bench/realtime.mjs     (BENCH_RT_WRITES=400 BENCH_RT_RATE=50 BENCH_RT_FANOUT=1000)
//
// Two built api processes on one database and Redis: subscribers connect to A over real
// WebSockets (the `ws` client, in this process), writes go through B, so every event crosses
// processes through Redis as it does between replicas. Latency of an event = the time this
// process receives it − the document's `createdAt` (clock_timestamp() of the insert
// statement, Postgres's clock = this machine's), so it covers the statement's commit, the
// publish, the replica's stream read, the per-subscriber check and the socket.
// Results: bench/results/realtime.json and .md.
import WebSocket from 'ws';
import { appEnv, call, createDatabase, dropRedisPrefix, machine, memoryOf, round, runNode, runSuffix, SERVICE_KEY, sleep, startApi, summary, withCleanup, writeResults } from './lib.mjs';

const WRITES = Number(process.env.BENCH_RT_WRITES ?? 400);
const RATE = Number(process.env.BENCH_RT_RATE ?? 50);
const FANOUT = Number(process.env.BENCH_RT_FANOUT ?? 1000);
const SUBSCRIPTIONS = 1000;
const CONNECTIONS = 100; // × 10 subscriptions each
const IDLE = 1000;
const suffix = runSuffix();
const startedAt = new Date();
const loadBefore = machine().loadAverage;

/** Opens a WebSocket to the api, resolves after its welcome frame; `onFrame` sees every frame after. */
function open(wsUrl, onFrame = () => undefined) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
    socket.once('error', reject);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'welcome') resolve(socket);
      else onFrame(frame, Date.now());
    });
  });
}

/** Sends subscribe frames and waits until all are acknowledged. */
async function subscribeAll(socket, frames, acks) {
  for (const f of frames) socket.send(JSON.stringify({ type: 'subscribe', ...f }));
  while (acks() < frames.length) await sleep(5);
}

const result = await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_realtime_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_realtime_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const env = appEnv(db.url, prefix, { REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION: '1000' });
  const a = await startApi(env);
  const b = await startApi(env);
  const wsUrl = `${a.base.replace(/^http/, 'ws')}/v1/realtime`;
  const service = { 'x-api-key': SERVICE_KEY };
  const rules = { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' };
  await call(b.base, 'POST', '/v1/collections', { name: 'rooms', fields: [{ name: 'room', type: 'integer' }, { name: 'text', type: 'string' }], rules }, service);
  await call(b.base, 'POST', '/v1/collections', { name: 'broadcast', fields: [{ name: 'text', type: 'string' }], rules }, service);
  const insert = (collection, body) => call(b.base, 'POST', `/v1/collections/${collection}/documents`, body, service);

  // ---- 1. latency with 1000 open subscriptions (100 anonymous connections × 10 rooms each)
  const latencies = [];
  let acks = 0;
  const sockets = [];
  for (let c = 0; c < CONNECTIONS; c++) {
    const socket = await open(wsUrl, (frame, at) => {
      if (frame.type === 'subscribed') acks++;
      if (frame.type === 'event') latencies.push(at - Date.parse(frame.document.createdAt));
    });
    sockets.push(socket);
    const frames = Array.from({ length: SUBSCRIPTIONS / CONNECTIONS }, (_, i) => ({ collection: 'rooms', filter: { room: c * (SUBSCRIPTIONS / CONNECTIONS) + i } }));
    await subscribeAll(socket, frames, () => acks - c * frames.length);
  }
  const memWith1000Subs = await memoryOf(a.child.pid);
  // Warm-up, then WRITES writes at RATE/s, each to a random room: exactly one subscriber matches.
  for (let i = 0; i < 50; i++) await insert('rooms', { room: i % SUBSCRIPTIONS, text: 'warm-up' });
  await sleep(500);
  latencies.length = 0;
  const t0 = performance.now();
  for (let i = 0; i < WRITES; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    await insert('rooms', { room: Math.floor(Math.random() * SUBSCRIPTIONS), text: `write ${i}` });
  }
  for (let i = 0; i < 200 && latencies.length < WRITES; i++) await sleep(25);
  const latency = { ...summary(latencies), received: latencies.length, writes: WRITES, rate: RATE };
  for (const s of sockets) s.terminate();
  await sleep(500);

  // ---- 2. fan-out of one change to FANOUT subscribers (one connection and subscription each)
  const fan = [];
  let fanAcks = 0;
  const byDoc = new Map();
  const fanSockets = [];
  for (let i = 0; i < FANOUT; i++) {
    const socket = await open(wsUrl, (frame, at) => {
      if (frame.type === 'subscribed') fanAcks++;
      if (frame.type !== 'event') return;
      const times = byDoc.get(frame.documentId) ?? [];
      times.push(at - Date.parse(frame.document.createdAt));
      byDoc.set(frame.documentId, times);
    });
    socket.send(JSON.stringify({ type: 'subscribe', collection: 'broadcast' }));
    fanSockets.push(socket);
  }
  while (fanAcks < FANOUT) await sleep(10);
  for (let round_ = 0; round_ < 12; round_++) {
    const doc = await insert('broadcast', { text: `round ${round_}` });
    const times = () => byDoc.get(doc.id) ?? [];
    for (let i = 0; i < 400 && times().length < FANOUT; i++) await sleep(25);
    if (round_ >= 2) fan.push({ received: times().length, ...summary(times()) });
    await sleep(200);
  }
  const fanout = {
    subscribers: FANOUT,
    rounds: fan.length,
    allReceived: fan.every((r) => r.received === FANOUT),
    firstMs: summary(fan.map((r) => r.min)),
    medianMs: summary(fan.map((r) => r.p50)),
    lastMs: summary(fan.map((r) => r.max)),
  };
  for (const s of fanSockets) s.terminate();
  await sleep(1000);

  // ---- 3. memory per idle connection (connected, no subscription) and per subscribed one
  const before = await memoryOf(a.child.pid);
  const idle = [];
  for (let i = 0; i < IDLE; i++) idle.push(await open(wsUrl));
  await sleep(1000);
  const withIdle = await memoryOf(a.child.pid);
  let idleAcks = 0;
  for (const s of idle) {
    s.on('message', (d) => JSON.parse(d.toString()).type === 'subscribed' && idleAcks++);
    s.send(JSON.stringify({ type: 'subscribe', collection: 'broadcast', filter: { text: 'never' } }));
  }
  while (idleAcks < IDLE) await sleep(10);
  await sleep(500);
  const withSubs = await memoryOf(a.child.pid);
  for (const s of idle) s.terminate();
  const memory = {
    connections: IDLE,
    rssBeforeMiB: before.rssMiB,
    rssIdleMiB: withIdle.rssMiB,
    rssSubscribedMiB: withSubs.rssMiB,
    perIdleConnectionKiB: round(((withIdle.rssMiB - before.rssMiB) * 1024) / IDLE, 1),
    perSubscriptionKiB: round(((withSubs.rssMiB - withIdle.rssMiB) * 1024) / IDLE, 1),
    rssWith1000SubscriptionsMiB: memWith1000Subs.rssMiB,
  };
  return { latency, fanout, memory };
});

const loadAfter = machine().loadAverage;
const report = { startedAt: startedAt.toISOString(), machine: { ...machine(), loadBefore, loadAfter }, ...result };
const l = result.latency;
const f = result.fanout;
const m = result.memory;
const md = `# Realtime

Run ${report.startedAt} on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}; load average before ${loadBefore.join(' / ')}, after ${loadAfter.join(' / ')}.
**A loaded, shared machine**: two api processes, Postgres, Redis and this benchmark's
${CONNECTIONS}-${FANOUT} WebSocket clients all on the same 2 cores, beside other work.

| measure | result | target |
|---|---|---|
| commit → event, ${SUBSCRIPTIONS} open subscriptions on api A (${CONNECTIONS} connections × ${SUBSCRIPTIONS / CONNECTIONS}), writes through api B at ${l.rate}/s | p50 ${l.p50} ms, p99 ${l.p99} ms (max ${l.max}; ${l.received}/${l.writes} received) | p50 ≤ 10 ms, p99 ≤ 50 ms |
| fan-out of one change to ${f.subscribers} subscribers (one connection each), ${f.rounds} rounds | first ${f.firstMs.p50} ms, median subscriber ${f.medianMs.p50} ms, last ${f.lastMs.p50} ms (medians over rounds; worst last ${f.lastMs.max} ms); all received: ${f.allReceived} | |
| memory per idle connection (RSS of api A, ${m.connections} connections) | ${m.perIdleConnectionKiB} KiB (+${m.perSubscriptionKiB} KiB per subscription) | |

RSS of api A: ${m.rssBeforeMiB} MiB before, ${m.rssIdleMiB} MiB with ${m.connections} idle connections, ${m.rssSubscribedMiB} MiB once each had a subscription; ${m.rssWith1000SubscriptionsMiB} MiB during the latency run.
Latency = receive time in the benchmark process − the document's createdAt (the insert
statement's clock_timestamp()), so it includes the commit, the XADD, the replica's XREAD, the
per-subscriber check and the WebSocket; whole milliseconds (createdAt has millisecond precision).
`;
await writeResults('realtime', report, md);
console.log(md);
