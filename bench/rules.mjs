// Rule expressions (issue 16): the same list under an expression read rule vs under `public`.
// Target: within 10 % of `public` (req/s). Two collections with the same 20 000 documents,
// one with `list: public`, one with `list: {"$or":[{"published":true},{"ownerId":"@auth.id"}]}`;
// both listed by the same signed-in user with `filter={"published":true}&sort=-createdAt&limit=20`
// (so both return the same page), alternating public / expression / expression / public.
// Needs `npm run build` first. Writes bench/results/rules.json and rules.md.
import { execFileSync } from 'node:child_process';
import {
  appEnv,
  call,
  createDatabase,
  DURATION,
  dropRedisPrefix,
  machine,
  postgresVersion,
  round,
  runNode,
  runSuffix,
  SERVICE_KEY,
  startApi,
  warmAndMeasure,
  withCleanup,
  writeResults,
} from './lib.mjs';

const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 20_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

await withCleanup(async (onCleanup) => {
  const suffix = runSuffix();
  const db = await createDatabase(`baas_bench_rules_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench-rules-${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  const env = appEnv(db.url, prefix);
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const { base } = await startApi(env);
  const service = { 'x-api-key': SERVICE_KEY };

  const fields = [
    { name: 'title', type: 'string' },
    { name: 'published', type: 'boolean' },
  ];
  const readable = { $or: [{ published: true }, { ownerId: '@auth.id' }] };
  const rules = (list) => ({ list, read: list, create: 'authenticated', update: 'owner', delete: 'owner' });
  await call(base, 'POST', '/v1/collections', { name: 'public_list', fields, indexes: [['published']], rules: rules('public') }, service);
  await call(base, 'POST', '/v1/collections', { name: 'expr_list', fields, indexes: [['published']], rules: rules(readable) }, service);

  const signup = await call(base, 'POST', '/v1/auth/signup', { email: `bench-rules-${suffix}@example.test`, password: 'bench password 123' });
  const bearer = { authorization: `Bearer ${signup.accessToken}` };
  const other = await call(base, 'POST', '/v1/auth/signup', { email: `bench-rules-other-${suffix}@example.test`, password: 'bench password 123' });

  // The same documents in both tables: 80 % published; a fifth owned by the caller, the rest by another user.
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  for (const table of ['public_list', 'expr_list']) {
    await client.query(
      `INSERT INTO data."${table}" (id, data, owner_id, created_at, updated_at)
       SELECT gen_random_uuid(), jsonb_build_object('title', 'recipe ' || g, 'published', g % 5 <> 0),
              CASE WHEN g % 5 = 1 THEN $1::uuid ELSE $2::uuid END,
              now() - g * interval '1 second', now() - g * interval '1 second'
         FROM generate_series(1, $3::int) g`,
      [signup.user.id, other.user.id, DOCUMENTS],
    );
    await client.query(`ANALYZE data."${table}"`);
  }
  await client.end();

  const path = (table) => `/v1/collections/${table}/documents?limit=20&sort=-createdAt&filter=${encodeURIComponent(JSON.stringify({ published: true }))}`;
  const page = async (table) => (await call(base, 'GET', path(table), undefined, bearer)).items.map((d) => d.title);
  const samePage = JSON.stringify(await page('public_list')) === JSON.stringify(await page('expr_list'));

  const loadBefore = uptime();
  const runs = [];
  for (const table of ['public_list', 'expr_list', 'expr_list', 'public_list']) {
    const r = await warmAndMeasure({ url: base + path(table), connections: CONNECTIONS, headers: bearer });
    runs.push({ table, ...r });
    console.log(`${table}: ${r.requestsPerSec} req/s p50 ${r.p50ms} ms p99 ${r.p99ms} ms (non-2xx ${r.non2xx})`);
  }
  const loadAfter = uptime();
  const mean = (t) => round(runs.filter((r) => r.table === t).reduce((a, r) => a + r.requestsPerSec, 0) / 2, 0);
  const pub = mean('public_list');
  const expr = mean('expr_list');
  const ratio = round(expr / pub, 3);
  const json = {
    at: new Date().toISOString(),
    machine: machine(),
    postgres: await postgresVersion(),
    uptimeBefore: loadBefore,
    uptimeAfter: loadAfter,
    documents: DOCUMENTS,
    connections: CONNECTIONS,
    durationSec: DURATION,
    samePage,
    runs,
    publicReqPerSec: pub,
    expressionReqPerSec: expr,
    ratio,
    target: 'expression within 10 % of public (ratio >= 0.9)',
    met: ratio >= 0.9,
  };
  const md = [
    '# Rule expressions: a list under an expression rule vs under `public`',
    '',
    `Run ${json.at} on ${json.machine.cpus} × ${json.machine.cpuModel}, Node ${json.machine.node}, Postgres ${json.postgres}.`,
    `**Loaded, shared machine** (api, Postgres and the load generator on the same 2 cores, other helpers' work beside): \`uptime\` before: \`${loadBefore}\`; after: \`${loadAfter}\`.`,
    '',
    `${DOCUMENTS} documents per collection (80 % published, a fifth owned by the caller), index on \`published\`; a signed-in user lists \`filter={"published":true}&sort=-createdAt&limit=20\`; autocannon ${CONNECTIONS} connections, ${DURATION} s per run after a warm-up, order public, expression, expression, public (means of two runs). Both return the same page: ${samePage}.`,
    '',
    '| list rule | req/s (mean) | runs (req/s, p50 / p99 ms) |',
    '|---|---|---|',
    `| \`public\` | ${pub} | ${runs.filter((r) => r.table === 'public_list').map((r) => `${r.requestsPerSec} (${r.p50ms} / ${r.p99ms})`).join(', ')} |`,
    `| \`{"$or":[{"published":true},{"ownerId":"@auth.id"}]}\` | ${expr} | ${runs.filter((r) => r.table === 'expr_list').map((r) => `${r.requestsPerSec} (${r.p50ms} / ${r.p99ms})`).join(', ')} |`,
    '',
    `Ratio expression ÷ public: **${ratio}** (target ≥ 0.9: ${json.met ? 'met' : 'not met'}).`,
  ].join('\n');
  await writeResults('rules', json, md);
  console.log(md);
});
