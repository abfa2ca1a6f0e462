// Data API side by side with Parse Server 9.10, in the same run, on the same Postgres (each in
// a database of its own), same document shape, same client concurrency, same load generator.
//
//   npm run build && node bench/compare-parse.mjs      (BENCH_DOCS=50000 BENCH_CONNECTIONS=50 BENCH_DURATION=8)
//
// Ours: the built api (one process, pool of 10), a collection whose rules are all `admin`,
// driven with the service key (`x-api-key`). Parse: one Parse Server process (Express, its
// default pg-promise pool) driven with the master key: both are the "full access" server
// role, so neither side evaluates per-user permissions. Both collections have an index on
// `score` (ours declared in the collection, Parse's through its schema API) and are seeded
// with the same BENCH_DOCS documents in plain SQL before the runs.
// Parse Server lives in bench/parse (its own package.json); `npm ci --prefix bench/parse`
// first (bench/run-all.mjs does it when bench/parse/node_modules is missing).
// Results: bench/results/compare-parse.json and .md.
import pg from 'pg';
import {
  appEnv,
  call,
  createDatabase,
  dropRedisPrefix,
  machine,
  parseInstalled,
  postgresVersion,
  runNode,
  runSuffix,
  SERVICE_KEY,
  startApi,
  startParse,
  warmAndMeasure,
  withCleanup,
  writeResults,
  DURATION,
  WARMUP,
} from './lib.mjs';

const DOCS = Number(process.env.BENCH_DOCS ?? 50_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const BODY = 'lorem ipsum '.repeat(20);

if (!parseInstalled()) {
  console.error('Parse Server is not installed: run `npm ci --prefix bench/parse` first (npm run bench does).');
  process.exit(1);
}

const suffix = runSuffix();
const startedAt = new Date();
const loadBefore = machine().loadAverage;

const result = await withCleanup(async (onCleanup) => {
  const ours = await createDatabase(`baas_bench_cmp_${suffix}`);
  onCleanup(() => ours.drop());
  const parseDb = await createDatabase(`baas_bench_parse_${suffix}`);
  onCleanup(() => parseDb.drop());
  const queuePrefix = `bench_cmp_${suffix}`;
  onCleanup(() => dropRedisPrefix(queuePrefix));

  // --- Ours
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: ours.url });
  const api = await startApi(appEnv(ours.url, queuePrefix));
  const service = { 'x-api-key': SERVICE_KEY };
  await call(api.base, 'POST', '/v1/collections', {
    name: 'items',
    fields: [
      { name: 'title', type: 'string', required: true },
      { name: 'score', type: 'number' },
      { name: 'tags', type: 'array', items: 'string' },
      { name: 'body', type: 'string' },
    ],
    indexes: [['score']],
    rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
  }, service);

  // --- Parse Server
  const parse = await startParse(parseDb.url, onCleanup);
  const parseBase = parse.base;
  const master = parse.master;
  await call(parseBase, 'POST', '/parse/schemas/Item', {
    className: 'Item',
    fields: { title: { type: 'String' }, score: { type: 'Number' }, tags: { type: 'Array' }, body: { type: 'String' } },
    indexes: { score_1: { score: 1 } },
  }, master);

  // --- The same documents on both sides: title, score (0..99999, spread), tags, body (240 chars).
  const oursPool = new pg.Pool({ connectionString: ours.url, max: 1 });
  const parsePool = new pg.Pool({ connectionString: parseDb.url, max: 1 });
  oursPool.on('error', () => undefined);
  parsePool.on('error', () => undefined);
  onCleanup(() => oursPool.end());
  onCleanup(() => parsePool.end());
  await oursPool.query(
    `INSERT INTO data."items" (id, data) SELECT gen_random_uuid(),
       jsonb_build_object('title', 'item ' || g, 'score', (g * 7919) % 100000, 'tags', jsonb_build_array('t' || (g % 100)), 'body', $2::text)
     FROM generate_series(1, $1::int) g`,
    [DOCS, BODY],
  );
  await parsePool.query(
    `INSERT INTO "Item" ("objectId", "createdAt", "updatedAt", title, score, tags, body)
     SELECT substr(md5(g::text || 'x'), 1, 10), now(), now(), 'item ' || g, (g * 7919) % 100000, jsonb_build_array('t' || (g % 100)), $2::text
     FROM generate_series(1, $1::int) g`,
    [DOCS, BODY],
  );
  await oursPool.query('ANALYZE data."items"');
  await parsePool.query('ANALYZE "Item"');
  const oursIds = (await oursPool.query('SELECT id FROM data."items" ORDER BY random() LIMIT 5000')).rows.map((r) => r.id);
  const parseIds = (await parsePool.query('SELECT "objectId" AS id FROM "Item" ORDER BY random() LIMIT 5000')).rows.map((r) => r.id);
  // Both answer the same list the same way (same ids aside): a sanity check of the comparison.
  const filter = (k) => JSON.stringify({ score: { $gte: (k * 397) % 99_000 } });
  const oursPage = await call(api.base, 'GET', `/v1/collections/items/documents?${new URLSearchParams({ filter: filter(1), sort: 'score', limit: '20' })}`, undefined, service);
  const parsePage = await call(parseBase, 'GET', `/parse/classes/Item?${new URLSearchParams({ where: filter(1), order: 'score', limit: '20' })}`, undefined, master);
  if (oursPage.items.length !== 20 || parsePage.results.length !== 20 || oursPage.items[0].score !== parsePage.results[0].score) {
    throw new Error('the two servers do not answer the list query alike');
  }

  const newDoc = (i) => JSON.stringify({ title: `new ${i}`, score: i % 100_000, tags: ['new'], body: BODY });
  const sides = {
    ours: {
      url: api.base,
      headers: { ...service, 'content-type': 'application/json' },
      create: () => ({ method: 'POST', path: '/v1/collections/items/documents', next: (i) => ({ body: newDoc(i) }) }),
      get: () => ({ method: 'GET', next: (i) => ({ path: `/v1/collections/items/documents/${oursIds[i % oursIds.length]}` }) }),
      list: () => ({
        method: 'GET',
        next: (i) => ({ path: `/v1/collections/items/documents?${new URLSearchParams({ filter: filter(i), sort: 'score', limit: '20' })}` }),
      }),
      update: () => ({
        method: 'PATCH',
        next: (i) => ({ path: `/v1/collections/items/documents/${oursIds[(i * 7) % oursIds.length]}`, body: JSON.stringify({ score: i % 100_000 }) }),
      }),
    },
    parse: {
      url: parseBase,
      headers: { ...master, 'content-type': 'application/json' },
      create: () => ({ method: 'POST', path: '/parse/classes/Item', next: (i) => ({ body: newDoc(i) }) }),
      get: () => ({ method: 'GET', next: (i) => ({ path: `/parse/classes/Item/${parseIds[i % parseIds.length]}` }) }),
      list: () => ({
        method: 'GET',
        next: (i) => ({ path: `/parse/classes/Item?${new URLSearchParams({ where: filter(i), order: 'score', limit: '20' })}` }),
      }),
      update: () => ({
        method: 'PUT',
        next: (i) => ({ path: `/parse/classes/Item/${parseIds[(i * 7) % parseIds.length]}`, body: JSON.stringify({ score: i % 100_000 }) }),
      }),
    },
  };

  const scenarios = [
    { key: 'get', label: 'get by id', target: 3 },
    { key: 'list', label: 'list: filter on indexed field + sort + limit 20', target: 3 },
    { key: 'create', label: 'create', target: 2 },
    { key: 'update', label: 'update (one field)', target: 2 },
  ];
  const rows = [];
  for (const [n, s] of scenarios.entries()) {
    const measured = {};
    // Alternate who goes first, so neither side always runs on a warmer (or more tired) machine.
    const order = n % 2 === 0 ? ['ours', 'parse'] : ['parse', 'ours'];
    for (const side of order) {
      const { method, path, next } = sides[side][s.key]();
      measured[side] = await warmAndMeasure({
        url: sides[side].url,
        connections: CONNECTIONS,
        headers: sides[side].headers,
        request: { method, path: path ?? '/' },
        next,
      });
      const m = measured[side];
      console.log(`${s.label.padEnd(50)} ${side.padEnd(5)} ${String(m.requestsPerSec).padStart(6)} req/s  p50 ${m.p50ms} ms  p99 ${m.p99ms} ms  non2xx ${m.non2xx}  errors ${m.errors}`);
      if (m.non2xx > 0 || m.errors > 0) throw new Error(`${side} ${s.key}: ${m.non2xx} non-2xx answers, ${m.errors} errors`);
    }
    const ratio = Math.round((measured.ours.requestsPerSec / measured.parse.requestsPerSec) * 100) / 100;
    rows.push({
      scenario: s.key,
      label: s.label,
      ours: measured.ours,
      parse: measured.parse,
      ratio,
      targets: {
        ratio: { target: s.target, met: ratio >= s.target },
        oursP99UnderMs: { target: 30, met: measured.ours.p99ms < 30 },
      },
    });
  }
  return { rows, postgres: await postgresVersion() };
});

const report = {
  date: startedAt.toISOString(),
  machine: { ...machine(), loadAverageBefore: loadBefore },
  postgres: result.postgres,
  settings: {
    documents: DOCS,
    connections: CONNECTIONS,
    durationSec: DURATION,
    warmupSec: WARMUP,
    ours: 'built api, 1 process, DATABASE_POOL_MAX=10, service key, collection rules all `admin`',
    parse: 'parse-server 9.10.0 on express 5, 1 process, master key',
  },
  scenarios: result.rows,
};

const md = [
  '# Data API vs Parse Server',
  '',
  `Run ${report.date} by \`node bench/compare-parse.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}, Postgres ${report.postgres}`,
  `(load average before: ${loadBefore.join(' / ')}). ${DOCS} documents per side, autocannon with ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per run.`,
  'Ours: one api process, service key; Parse Server 9.10.0: one process, master key. Same Postgres, one database each, index on `score` on both sides.',
  '',
  '| scenario | ours req/s | ours p50 / p99 ms | Parse req/s | Parse p50 / p99 ms | ours / Parse | target | met |',
  '|---|---:|---:|---:|---:|---:|---|---|',
  ...report.scenarios.map(
    (r) =>
      `| ${r.label} | ${r.ours.requestsPerSec} | ${r.ours.p50ms} / ${r.ours.p99ms} | ${r.parse.requestsPerSec} | ${r.parse.p50ms} / ${r.parse.p99ms} | ${r.ratio}x | ≥ ${r.targets.ratio.target}x, p99 < 30 ms | ${r.targets.ratio.met && r.targets.oursP99UnderMs.met ? 'yes' : 'no'} |`,
  ),
  '',
].join('\n');
await writeResults('compare-parse', report, md);
process.stdout.write(md);
