import { readFile } from 'node:fs/promises';
import { appEnv, call, cannon, createDatabase, dropRedisPrefix, runNode, runSuffix, SERVICE_KEY, startApi, withCleanup } from './lib.mjs';
async function cpuSeconds(pid) { const stat = await readFile(`/proc/${pid}/stat`, 'utf8'); const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; }
const suffix = runSuffix();
await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_gwv_${suffix}`); onCleanup(() => db.drop());
  const prefix = `bench_gwv_${suffix}`; onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const ORIGIN = 'https://app.example.com';
  const apis = {
    off: await startApi(appEnv(db.url, prefix, { RATE_LIMIT_ENABLED: 'false' })),
    on: await startApi(appEnv(db.url, prefix, { CORS_ORIGINS: `${ORIGIN},https://*.example.org` })),
    onStar: await startApi(appEnv(db.url, prefix, {})),
    corsOnly: await startApi(appEnv(db.url, prefix, { RATE_LIMIT_ENABLED: 'false', CORS_ORIGINS: `${ORIGIN},https://*.example.org` })),
  };
  const service = { 'x-api-key': SERVICE_KEY };
  await call(apis.on.base, 'POST', '/v1/collections', { name: 'bench_items', fields: [{ name: 'title', type: 'string' }], rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' } }, service);
  const doc = await call(apis.on.base, 'POST', '/v1/collections/bench_items/documents', { title: 'a' }, service);
  const path = `/v1/collections/bench_items/documents/${doc.id}`;
  const variants = [['off', {}], ['on', { origin: ORIGIN }], ['on', {}], ['onStar', {origin: ORIGIN}], ['corsOnly', { origin: ORIGIN }]];
  for (let round = 0; round < 2; round++) for (const [name, headers] of (round ? [...variants].reverse() : variants)) {
    const api = apis[name];
    await cannon({ url: api.base, connections: 32, duration: 2, headers, request: { method: 'GET', path } });
    const before = await cpuSeconds(api.child.pid);
    const r = await cannon({ url: api.base, connections: 32, duration: 6, headers, request: { method: 'GET', path } });
    const cpu = (await cpuSeconds(api.child.pid)) - before;
    console.log(name, JSON.stringify(headers), r.requestsPerSec, 'req/s', ((cpu * 1e6) / r.requests).toFixed(1), 'µs/req');
  }
});
