// Profiling aid for the gateway (not part of `npm run bench`): one built api with the
// gateway "on" (rate limits + a CORS origin list, an allowed Origin sent) or "off"
// (RATE_LIMIT_ENABLED=false, no Origin), driven with get-by-id as an anonymous caller or a
// signed-in user, started with `--cpu-prof`; prints the api's CPU time per request.
//
//   node bench/profile-gateway.mjs on|off anonymous|user [seconds]   → bench/results/profiles/gateway-*.cpuprofile
//   NO_PROF=1 (no profile)
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { appEnv, call, cannon, createDatabase, dropRedisPrefix, root, runNode, runSuffix, SERVICE_KEY, startApi, stopChild, withCleanup } from './lib.mjs';

const side = process.argv[2] ?? 'on';
const caller = process.argv[3] ?? 'user';
const seconds = Number(process.argv[4] ?? 8);
const ORIGIN = 'https://app.example.com';
const suffix = runSuffix();
const ticks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};

await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_gwprof_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_gwprof_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const dir = join(root, 'bench', 'results', 'profiles');
  await mkdir(dir, { recursive: true });
  const env = side === 'on' ? appEnv(db.url, prefix, { CORS_ORIGINS: `${ORIGIN},https://*.example.org` }) : appEnv(db.url, prefix, { RATE_LIMIT_ENABLED: 'false' });
  const prof = process.env.NO_PROF ? [] : ['--cpu-prof', '--cpu-prof-interval=250', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=gateway-${side}-${caller}.cpuprofile`];
  const api = await startApi(env, prof);
  const service = { 'x-api-key': SERVICE_KEY };
  await call(api.base, 'POST', '/v1/collections', {
    name: 'bench_items',
    fields: [{ name: 'title', type: 'string' }, { name: 'score', type: 'number' }, { name: 'body', type: 'string' }],
    rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
  }, service);
  const doc = await call(api.base, 'POST', '/v1/collections/bench_items/documents', { title: 'a document', score: 42, body: 'x'.repeat(240) }, service);
  const path = `/v1/collections/bench_items/documents/${doc.id}`;
  const headers = {};
  if (caller === 'user') {
    const signup = await call(api.base, 'POST', '/v1/auth/signup', { email: `bench-${suffix}@example.test`, password: 'correct horse battery staple' });
    headers.authorization = `Bearer ${signup.accessToken}`;
  }
  if (side === 'on') headers.origin = ORIGIN;
  const opts = { url: api.base, connections: 32, headers, request: { method: 'GET', path } };
  await cannon({ ...opts, duration: 5 });
  const a0 = ticks(api.child.pid);
  const r = await cannon({ ...opts, duration: seconds });
  const cpu = (ticks(api.child.pid) - a0) / 100;
  console.log(`${side} ${caller}: ${r.requestsPerSec} req/s, api CPU per request ${Math.round((cpu * 1e7) / r.requests) / 10} µs (non2xx ${r.non2xx}, errors ${r.errors})`);
  api.child.kill('SIGINT');
  await stopChild(api.child);
});
