// The whole system as `npm start` runs it (the built api, `node dist/apps/api/src/main.js`, and
// one built worker, `node --no-node-snapshot dist/apps/worker/src/main.js`) against Parse
// Server 9.10 and a raw Fastify + pg baseline, in the same run, on the same Postgres.
//
//   npm run build && node bench/system.mjs    (BENCH_DOCS=20000 BENCH_CONNECTIONS=50 BENCH_DURATION=8 BENCH_FEED_RATE=500)
//
// Paths, each with get / list / create / update at BENCH_CONNECTIONS connections:
// - service: ours with the service key on a collection whose rules are all `admin`; Parse
//   with the master key.
// - end user: a signed-in user (ours: Bearer access token; Parse: session token) on a
//   collection with owner rules (ours: list/read/update `owner`, create `authenticated`;
//   Parse: per-object ACL of that user), seeded with documents the user owns.
// - raw: bench/raw-baseline.mjs, the same SQL as ours with no auth, validation or change feed
//   (the physical limit of this machine); ours is reported as a fraction of it.
// No function is deployed during those runs (writes record no events: docs/functions.md).
// Then the change feed: one function subscribed to a collection, BENCH_FEED_RATE writes/s for
// BENCH_FEED_SECONDS; db change (row created_at) → function start (run started_at), both on
// the Postgres clock, and every write is counted against the runs it started.
// Also the cost of the subscription check in the write statement (sequential, one connection).
// Results: bench/results/system.json and .md. The machine is shared: load averages are recorded.
import pg from 'pg';
import { hasSubscriberSql } from '../dist/libs/events/src/subscriptions.js';
import {
  appEnv,
  call,
  cannon,
  createDatabase,
  dropRedisPrefix,
  DURATION,
  freePort,
  machine,
  parseInstalled,
  postgresVersion,
  round,
  runNode,
  runSuffix,
  SERVICE_KEY,
  sleep,
  startApi,
  startNode,
  startParse,
  startWorker,
  summary,
  waitFor,
  warmAndMeasure,
  WARMUP,
  withCleanup,
  writeResults,
} from './lib.mjs';

const DOCS = Number(process.env.BENCH_DOCS ?? 20_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const FEED_RATE = Number(process.env.BENCH_FEED_RATE ?? 500);
const FEED_SECONDS = Number(process.env.BENCH_FEED_SECONDS ?? 10);
const GUARD_ITERATIONS = 3000;
const BODY = 'lorem ipsum '.repeat(20);
const PASSWORD = 'bench password 0123456789';

if (!parseInstalled()) {
  console.error('Parse Server is not installed: run `npm ci --prefix bench/parse` first (npm run bench does).');
  process.exit(1);
}

const suffix = runSuffix();
const startedAt = new Date();
const loadBefore = machine().loadAverage;

const result = await withCleanup(async (onCleanup) => {
  const ours = await createDatabase(`baas_bench_sys_${suffix}`);
  onCleanup(() => ours.drop());
  const parseDb = await createDatabase(`baas_bench_sysparse_${suffix}`);
  onCleanup(() => parseDb.drop());
  const queuePrefix = `bench_sys_${suffix}`;
  onCleanup(() => dropRedisPrefix(queuePrefix));

  // --- Ours: api + worker, as `npm start` runs them.
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: ours.url });
  const env = appEnv(ours.url, queuePrefix, { JWT_ACCESS_TTL_SECONDS: '3600' });
  const api = await startApi(env);
  await startWorker(env, api.base);
  const service = { 'x-api-key': SERVICE_KEY };
  const fields = [
    { name: 'title', type: 'string', required: true },
    { name: 'score', type: 'number' },
    { name: 'tags', type: 'array', items: 'string' },
    { name: 'body', type: 'string' },
  ];
  await call(api.base, 'POST', '/v1/collections', { name: 'items', fields, indexes: [['score']], rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' } }, service);
  await call(api.base, 'POST', '/v1/collections', { name: 'notes', fields, indexes: [['score']], rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' } }, service);
  const user = await call(api.base, 'POST', '/v1/auth/signup', { email: `bench-${suffix}@example.test`, password: PASSWORD });

  // --- Parse Server: the same two classes, a user of its own.
  const parse = await startParse(parseDb.url, onCleanup);
  const parseFields = { title: { type: 'String' }, score: { type: 'Number' }, tags: { type: 'Array' }, body: { type: 'String' } };
  for (const className of ['Item', 'Note']) {
    await call(parse.base, 'POST', `/parse/schemas/${className}`, { className, fields: parseFields, indexes: { score_1: { score: 1 } } }, parse.master);
  }
  const parseUser = await call(parse.base, 'POST', '/parse/users', { username: `bench-${suffix}`, password: PASSWORD }, { 'x-parse-application-id': parse.appId });

  // --- Seed: the same documents on both sides; the end-user ones owned by that user.
  const oursPool = new pg.Pool({ connectionString: ours.url, max: 2 });
  const parsePool = new pg.Pool({ connectionString: parseDb.url, max: 1 });
  oursPool.on('error', () => undefined);
  parsePool.on('error', () => undefined);
  onCleanup(() => oursPool.end());
  onCleanup(() => parsePool.end());
  const docSql = `jsonb_build_object('title', 'item ' || g, 'score', (g * 7919) % 100000, 'tags', jsonb_build_array('t' || (g % 100)), 'body', $2::text)`;
  await oursPool.query(`INSERT INTO data."items" (id, data) SELECT gen_random_uuid(), ${docSql} FROM generate_series(1, $1::int) g`, [DOCS, BODY]);
  await oursPool.query(`INSERT INTO data."notes" (id, data, owner_id) SELECT gen_random_uuid(), ${docSql}, $3::uuid FROM generate_series(1, $1::int) g`, [DOCS, BODY, user.user.id]);
  const parseRow = `substr(md5(g::text || $3), 1, 10), now(), now(), 'item ' || g, (g * 7919) % 100000, jsonb_build_array('t' || (g % 100)), $2::text`;
  await parsePool.query(`INSERT INTO "Item" ("objectId", "createdAt", "updatedAt", title, score, tags, body) SELECT ${parseRow} FROM generate_series(1, $1::int) g`, [DOCS, BODY, 'i']);
  await parsePool.query(
    `INSERT INTO "Note" ("objectId", "createdAt", "updatedAt", title, score, tags, body, "_rperm", "_wperm")
     SELECT ${parseRow}, ARRAY[$4::text], ARRAY[$4::text] FROM generate_series(1, $1::int) g`,
    [DOCS, BODY, 'n', parseUser.objectId],
  );
  for (const t of ['data."items"', 'data."notes"']) await oursPool.query(`ANALYZE ${t}`);
  for (const t of ['"Item"', '"Note"']) await parsePool.query(`ANALYZE ${t}`);
  const ids = async (pool, sql) => (await pool.query(sql)).rows.map((r) => r.id);
  const oursItemIds = await ids(oursPool, 'SELECT id FROM data."items" ORDER BY random() LIMIT 5000');
  const oursNoteIds = await ids(oursPool, 'SELECT id FROM data."notes" ORDER BY random() LIMIT 5000');
  const parseItemIds = await ids(parsePool, 'SELECT "objectId" AS id FROM "Item" ORDER BY random() LIMIT 5000');
  const parseNoteIds = await ids(parsePool, 'SELECT "objectId" AS id FROM "Note" ORDER BY random() LIMIT 5000');

  // --- Raw baseline on our items table, with the expression of our index on `score`.
  const indexDef = (await oursPool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'data' AND tablename = 'items' AND indexdef LIKE '%score%'`)).rows[0]?.indexdef;
  const scoreExpr = /USING btree \((.*)\)$/s.exec(indexDef ?? '')?.[1];
  if (!scoreExpr) throw new Error(`no index on score found: ${indexDef}`);
  const rawPort = await freePort();
  const raw = { base: `http://127.0.0.1:${rawPort}` };
  const rawChild = startNode(['bench/raw-baseline.mjs'], { DATABASE_URL: ours.url, PORT: String(rawPort), TABLE: 'data."items"', SCORE_EXPR: scoreExpr });
  await waitFor(`${raw.base}/ready`, 30_000, rawChild);

  // --- The three servers answer the same list alike (a sanity check of the comparison).
  const min = (k) => (k * 397) % 99_000;
  const filter = (k) => JSON.stringify({ score: { $gte: min(k) } });
  const user_ = { authorization: `Bearer ${user.accessToken}` };
  const parseUserHeaders = { 'x-parse-application-id': parse.appId, 'x-parse-session-token': parseUser.sessionToken };
  const pages = [
    (await call(api.base, 'GET', `/v1/collections/items/documents?${new URLSearchParams({ filter: filter(1), sort: 'score', limit: '20' })}`, undefined, service)).items,
    (await call(api.base, 'GET', `/v1/collections/notes/documents?${new URLSearchParams({ filter: filter(1), sort: 'score', limit: '20' })}`, undefined, user_)).items,
    (await call(parse.base, 'GET', `/parse/classes/Item?${new URLSearchParams({ where: filter(1), order: 'score', limit: '20' })}`, undefined, parse.master)).results,
    (await call(parse.base, 'GET', `/parse/classes/Note?${new URLSearchParams({ where: filter(1), order: 'score', limit: '20' })}`, undefined, parseUserHeaders)).results,
    (await call(raw.base, 'GET', `/items?min=${min(1)}`)).items,
  ];
  if (pages.some((p) => p.length !== 20 || p[0].score !== pages[0][0].score)) throw new Error('the servers do not answer the list query alike');

  // --- The subscription check in the write statement: its cost, sequential, one connection.
  const guard = await guardCost(oursPool);

  const newDoc = (i) => JSON.stringify({ title: `new ${i}`, score: i % 100_000, tags: ['new'], body: BODY });
  const aclOf = (id) => ({ [id]: { read: true, write: true } });
  const side = (url, headers, paths, createBody = newDoc) => ({
    url,
    headers: { ...headers, 'content-type': 'application/json' },
    get: { method: 'GET', next: (i) => ({ path: paths.one(i) }) },
    list: { method: 'GET', next: (i) => ({ path: paths.list(i) }) },
    create: { method: 'POST', path: paths.create, next: (i) => ({ body: createBody(i) }) },
    update: { method: paths.updateMethod, next: (i) => ({ path: paths.one(i * 7), body: JSON.stringify({ score: i % 100_000 }) }) },
  });
  const oursPaths = (collection, pool) => ({
    one: (i) => `/v1/collections/${collection}/documents/${pool[i % pool.length]}`,
    list: (i) => `/v1/collections/${collection}/documents?${new URLSearchParams({ filter: filter(i), sort: 'score', limit: '20' })}`,
    create: `/v1/collections/${collection}/documents`,
    updateMethod: 'PATCH',
  });
  const parsePaths = (className, pool) => ({
    one: (i) => `/parse/classes/${className}/${pool[i % pool.length]}`,
    list: (i) => `/parse/classes/${className}?${new URLSearchParams({ where: filter(i), order: 'score', limit: '20' })}`,
    create: `/parse/classes/${className}`,
    updateMethod: 'PUT',
  });
  const sides = {
    'ours service': side(api.base, service, oursPaths('items', oursItemIds)),
    'parse master': side(parse.base, parse.master, parsePaths('Item', parseItemIds)),
    'ours user': side(api.base, user_, oursPaths('notes', oursNoteIds)),
    'parse user': side(parse.base, parseUserHeaders, parsePaths('Note', parseNoteIds), (i) => JSON.stringify({ ...JSON.parse(newDoc(i)), ACL: aclOf(parseUser.objectId) })),
    raw: side(raw.base, {}, { one: (i) => `/items/${oursItemIds[i % oursItemIds.length]}`, list: (i) => `/items?min=${min(i)}`, create: '/items', updateMethod: 'PATCH' }),
  };

  const ops = [
    { key: 'get', label: 'get by id', parseRatio: 2, rawFraction: 0.7 },
    { key: 'list', label: 'list: filter on indexed field + sort + limit 20', parseRatio: 2, rawFraction: 0.7 },
    { key: 'create', label: 'create', parseRatio: 1.5, p99: 30 },
    { key: 'update', label: 'update (one field)', parseRatio: 1.5, p99: 30 },
  ];
  const measured = {};
  for (const [n, op] of ops.entries()) {
    measured[op.key] = {};
    // Alternate the order, so no side always runs on a warmer (or more tired) machine.
    const order = Object.keys(sides);
    if (n % 2 === 1) order.reverse();
    for (const name of order) {
      const s = sides[name];
      const r = s[op.key];
      const m = await warmAndMeasure({ url: s.url, connections: CONNECTIONS, headers: s.headers, request: { method: r.method, path: r.path ?? '/' }, next: r.next });
      measured[op.key][name] = m;
      console.log(`${op.label.padEnd(48)} ${name.padEnd(13)} ${String(m.requestsPerSec).padStart(6)} req/s  p50 ${m.p50ms} ms  p99 ${m.p99ms} ms  non2xx ${m.non2xx}  errors ${m.errors}`);
      if (m.non2xx > 0 || m.errors > 0 || m.requests === 0) throw new Error(`${name} ${op.key}: ${m.requests} answers, ${m.non2xx} non-2xx, ${m.errors} errors`);
    }
  }
  const rows = [];
  for (const op of ops) {
    for (const [path, oursKey, parseKey] of [
      ['service', 'ours service', 'parse master'],
      ['end user', 'ours user', 'parse user'],
    ]) {
      const o = measured[op.key][oursKey];
      const p = measured[op.key][parseKey];
      const rawM = measured[op.key].raw;
      const ratio = round(o.requestsPerSec / p.requestsPerSec, 2);
      const ofRaw = round(o.requestsPerSec / rawM.requestsPerSec, 2);
      const targets = { parseRatio: { target: op.parseRatio, met: ratio >= op.parseRatio } };
      if (op.p99) targets.p99UnderMs = { target: op.p99, met: o.p99ms < op.p99 };
      if (op.rawFraction) targets.rawFraction = { target: op.rawFraction, met: ofRaw >= op.rawFraction };
      rows.push({ op: op.key, label: op.label, path, ours: o, parse: p, raw: rawM, ratio, ofRaw, targets, met: Object.values(targets).every((t) => t.met) });
    }
  }

  // --- Change feed: one function subscribed, FEED_RATE writes/s.
  const feed = await feedLatency(api.base, service, oursPool);
  return { rows, guard, feed, postgres: await postgresVersion(), walLevel: (await oursPool.query('SHOW wal_level')).rows[0].wal_level };
});

/** Statement cost of a document insert: alone, with the guarded outbox insert (no subscriber), and with an unguarded one (before). */
async function guardCost(pool) {
  const client = await pool.connect();
  try {
    await client.query('CREATE TABLE bench_guard (id uuid PRIMARY KEY, data jsonb NOT NULL, created_at timestamptz(3) NOT NULL DEFAULT clock_timestamp())');
    const event = JSON.stringify({ collection: 'bench_guard', operation: 'create', before: null, after: { body: BODY }, actor: { type: 'anonymous' } });
    const variants = {
      'insert alone': [`INSERT INTO bench_guard (id, data) VALUES (gen_random_uuid(), $1::jsonb) RETURNING *`, (d) => [d]],
      'insert + outbox insert guarded by the subscription check (no subscriber: no row)': [
        `WITH d AS (INSERT INTO bench_guard (id, data) VALUES (gen_random_uuid(), $1::jsonb) RETURNING *),
              e AS (INSERT INTO outbox_events (type, payload) SELECT 'bench.guard', $2::jsonb FROM d WHERE ${hasSubscriberSql("'db'", '$3::text', "'create'")} RETURNING 1)
         SELECT d.*, EXISTS (SELECT 1 FROM e) AS evented FROM d`,
        (d) => [d, event, 'bench_guard'],
      ],
      'insert + outbox insert, unconditional (before this change)': [
        `WITH d AS (INSERT INTO bench_guard (id, data) VALUES (gen_random_uuid(), $1::jsonb) RETURNING *),
              e AS (INSERT INTO outbox_events (type, payload) SELECT 'bench.guard', $2::jsonb FROM d RETURNING 1)
         SELECT d.* FROM d`,
        (d) => [d, event],
      ],
    };
    // Interleaved (one of each in turn) and reported as medians, so load from other processes
    // on the machine hits all variants alike and its spikes do not move the result.
    const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let i = 0; i < GUARD_ITERATIONS + 200; i++) {
      for (const [name, [text, params]] of Object.entries(variants)) {
        const t0 = performance.now();
        await client.query(text, params(JSON.stringify({ i, body: BODY })));
        if (i >= 200) samples[name].push((performance.now() - t0) * 1000); // after 200 warm-up rounds
      }
    }
    const out = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(summary(v).p50, 0)]));
    await client.query("DELETE FROM outbox_events WHERE type = 'bench.guard'");
    await client.query('DROP TABLE bench_guard');
    return { iterations: GUARD_ITERATIONS, microsecondsPerStatement: out };
  } finally {
    client.release();
  }
}

async function feedLatency(base, service, pool) {
  await call(base, 'POST', '/v1/collections', { name: 'feed', fields: [{ name: 'n', type: 'number' }], rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' } }, service);
  await call(base, 'PUT', '/v1/functions/on-feed', { source: 'export default async () => null', language: 'js', triggers: [{ type: 'db', collection: 'feed', events: ['create'] }] }, service);
  const load = await cannon({
    url: base,
    connections: 10,
    duration: FEED_SECONDS,
    overallRate: FEED_RATE,
    headers: { ...service, 'content-type': 'application/json' },
    request: { method: 'POST', path: '/v1/collections/feed/documents' },
    next: (i) => ({ body: JSON.stringify({ n: i }) }),
  });
  const count = async (sql) => (await pool.query(sql)).rows[0].n;
  const writesSql = 'SELECT count(*)::int AS n FROM data."feed"';
  const runsSql = "SELECT count(DISTINCT event_id)::int AS n FROM function_runs WHERE function_id = (SELECT id FROM functions WHERE name = 'on-feed') AND started_at IS NOT NULL";
  // Every committed write must start one run; wait (bounded) until they all have.
  const until = Date.now() + 120_000;
  while (Date.now() < until && (await count(runsSql)) < (await count(writesSql))) await sleep(200);
  const writes = await count(writesSql);
  // started: the run's attempt began (worker); created: the fan-out made the run (relay + events job), i.e. the feed alone.
  const { rows } = await pool.query(
    `SELECT (extract(epoch FROM r.started_at - d.created_at) * 1000)::float AS ms,
            (extract(epoch FROM r.created_at - d.created_at) * 1000)::float AS created
       FROM function_runs r JOIN data."feed" d ON d.id = (r.event->>'documentId')::uuid
      WHERE r.function_id = (SELECT id FROM functions WHERE name = 'on-feed')`,
  );
  const started = await count(runsSql);
  const duplicates = await count("SELECT (count(*) - count(DISTINCT event_id))::int AS n FROM function_runs WHERE function_id = (SELECT id FROM functions WHERE name = 'on-feed')");
  return {
    targetRate: FEED_RATE,
    seconds: FEED_SECONDS,
    achievedWritesPerSec: load.requestsPerSec,
    writeP99Ms: load.p99ms,
    writes,
    runsStarted: started,
    lost: writes - started,
    duplicates,
    changeToStartMs: summary(rows.map((r) => r.ms)),
    changeToRunCreatedMs: summary(rows.map((r) => r.created)),
  };
}

const loadAfter = machine().loadAverage;
const yes = (met) => (met ? 'yes' : '**no**');
const report = {
  date: startedAt.toISOString(),
  machine: { ...machine(), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
  postgres: result.postgres,
  walLevel: result.walLevel,
  settings: {
    documents: DOCS,
    connections: CONNECTIONS,
    durationSec: DURATION,
    warmupSec: WARMUP,
    ours: 'built api (1 process, DATABASE_POOL_MAX=10) + 1 built worker (WORKER_CONCURRENCY=8, SANDBOX_HOSTS=2), as `npm start` runs them; no function deployed during the throughput runs',
    parse: 'parse-server 9.10.0 on express 5, 1 process',
    raw: 'bench/raw-baseline.mjs: Fastify + pg (pool 10), the same SQL on the same table, no auth/validation/change feed',
  },
  scenarios: result.rows,
  guard: result.guard,
  feed: result.feed,
};
const f = report.feed;
const md = [
  '# The whole system vs Parse Server and a raw baseline',
  '',
  `Run ${report.date} by \`node bench/system.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}, Postgres ${report.postgres} (wal_level=${report.walLevel}).`,
  `**The machine is shared with other engineers' test runs**: load average ${loadBefore.join(' / ')} before, ${loadAfter.join(' / ')} after (1 / 5 / 15 min, 2 cores).`,
  `${DOCS} documents per collection, autocannon with ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per run; every side runs alone, one after the other.`,
  `Ours: ${report.settings.ours}. Parse: ${report.settings.parse}. Raw: ${report.settings.raw}.`,
  'Service path: service key / master key, collection rules `admin`. End-user path: a signed-in user on owner rules (Parse: per-object ACL), seeded with that user\'s documents.',
  '',
  '| scenario | path | ours req/s | ours p50 / p99 ms | Parse req/s | Parse p50 / p99 ms | ours / Parse | raw req/s | ours / raw | target | met |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ...report.scenarios.map((r) => {
    const t = [`≥ ${r.targets.parseRatio.target}x Parse`, r.targets.p99UnderMs ? `p99 < ${r.targets.p99UnderMs.target} ms` : '', r.targets.rawFraction ? `≥ ${r.targets.rawFraction.target * 100} % raw` : ''].filter(Boolean).join(', ');
    return `| ${r.label} | ${r.path} | ${r.ours.requestsPerSec} | ${r.ours.p50ms} / ${r.ours.p99ms} | ${r.parse.requestsPerSec} | ${r.parse.p50ms} / ${r.parse.p99ms} | ${r.ratio}x | ${r.raw.requestsPerSec} | ${Math.round(r.ofRaw * 100)} % | ${t} | ${yes(r.met)} |`;
  }),
  '',
  `## Change feed: one function subscribed, ${f.targetRate} writes/s for ${f.seconds} s`,
  '',
  '| measure | result | target | met |',
  '|---|---|---|---|',
  `| writes (achieved rate, write p99) | ${f.writes} (${f.achievedWritesPerSec}/s, p99 ${f.writeP99Ms} ms) | ${f.targetRate}/s | |`,
  `| db change → function start, p50 / p99 / max | ${f.changeToStartMs.p50} / ${f.changeToStartMs.p99} / ${f.changeToStartMs.max} ms | p50 ≤ 10 ms | ${yes(f.changeToStartMs.p50 <= 10)} |`,
  `| db change → run created by the fan-out (relay + events job, before the run waits for a sandbox), p50 / p99 | ${f.changeToRunCreatedMs.p50} / ${f.changeToRunCreatedMs.p99} ms | | |`,
  `| runs started / lost / doubled | ${f.runsStarted} / ${f.lost} / ${f.duplicates} | 0 lost | ${yes(f.lost === 0 && f.duplicates === 0)} |`,
  '',
  `## Cost of the subscription check (median µs per statement over ${report.guard.iterations} rounds of the three, interleaved, one connection)`,
  '',
  '| statement | µs |',
  '|---|---:|',
  ...Object.entries(report.guard.microsecondsPerStatement).map(([k, v]) => `| ${k} | ${v} |`),
  '',
].join('\n');
await writeResults('system', report, md);
process.stdout.write(md);
