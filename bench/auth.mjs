// Auth benchmark: `POST /v1/auth/login` req/s and latency against the built api, and the cost
// of one password verification alone (the hash dominates a login).
//
//   npm run build && node bench/auth.mjs          (BENCH_AUTH_CONNECTIONS=16 BENCH_DURATION=8)
//
// Signs up BENCH_AUTH_USERS users through the api, then logs them in round robin with the
// right password. AUTH_RATE_LIMIT_MAX is raised for the run (a successful login resets the
// per-email counter anyway; the per-IP limit counts failures only). Results:
// bench/results/auth.json and .md.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { appEnv, call, createDatabase, dropRedisPrefix, machine, runNode, runSuffix, startApi, summary, warmAndMeasure, withCleanup, writeResults, WARMUP } from './lib.mjs';

const USERS = Number(process.env.BENCH_AUTH_USERS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_AUTH_CONNECTIONS ?? 16);
const PASSWORD = 'correct horse battery staple';
const suffix = runSuffix();
const startedAt = new Date();
const loadBefore = machine().loadAverage;

// The parameters the api hashes with (the built module, so they cannot drift from the code).
const { PASSWORD_HASH_PARAMS } = await import(new URL('../dist/apps/api/src/auth/password.js', import.meta.url).href);

const result = await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_auth_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_auth_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const api = await startApi(appEnv(db.url, prefix, { MAIL_DIR: join(tmpdir(), `baas-bench-mail-${suffix}`) }));

  const emails = Array.from({ length: USERS }, (_, i) => `bench-${i}-${suffix}@example.test`);
  const signupMs = [];
  let storedHash;
  for (const email of emails) {
    const t0 = performance.now();
    await call(api.base, 'POST', '/v1/auth/signup', { email, password: PASSWORD });
    signupMs.push(performance.now() - t0);
  }
  // One verification on its own, in this process, with the hash the api stored.
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  storedHash = (await client.query('SELECT password_hash FROM users WHERE email = $1', [emails[0]])).rows[0]?.password_hash;
  await client.end();
  if (!storedHash?.startsWith('$argon2id$')) throw new Error('no argon2id hash found for the bench user');
  const verifyMs = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    if (!(await verify(storedHash, PASSWORD))) throw new Error('verify failed');
    verifyMs.push(performance.now() - t0);
  }

  const login = await warmAndMeasure({
    url: api.base,
    connections: CONNECTIONS,
    headers: { 'content-type': 'application/json' },
    request: { method: 'POST', path: '/v1/auth/login' },
    next: (i) => ({ body: JSON.stringify({ email: emails[i % emails.length], password: PASSWORD }) }),
  });
  if (login.non2xx > 0 || login.errors > 0) throw new Error(`login: ${login.non2xx} non-2xx, ${login.errors} errors`);
  const sequential = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await call(api.base, 'POST', '/v1/auth/login', { email: emails[i % emails.length], password: PASSWORD });
    sequential.push(performance.now() - t0);
  }
  return {
    hashParams: { ...PASSWORD_HASH_PARAMS, algorithm: 'argon2id', storedPrefix: storedHash.split('$').slice(0, 4).join('$') },
    signupMs: summary(signupMs),
    verifyMsInProcess: summary(verifyMs),
    loginSequentialMs: summary(sequential),
    login,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  };
});

const report = { date: startedAt.toISOString(), machine: { ...machine(), loadAverageBefore: loadBefore }, users: USERS, ...result };
const h = report.hashParams;
const md = [
  '# Auth benchmark',
  '',
  `Run ${report.date} by \`node bench/auth.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node} (load average before: ${loadBefore.join(' / ')}).`,
  `Password hash: argon2id (\`@node-rs/argon2\`), memoryCost ${h.memoryCost} KiB (19 MiB), timeCost ${h.timeCost}, parallelism ${h.parallelism} (stored as \`${h.storedPrefix}\`); it runs on libuv's thread pool (${report.uvThreadpoolSize} threads), so at most ${report.machine.cpus} hashes make progress at once on this machine.`,
  '',
  '| measure | value |',
  '|---|---|',
  `| login, ${report.login.connections} connections, ${report.login.durationSec} s (after ${WARMUP} s warm-up) | ${report.login.requestsPerSec} req/s, p50 ${report.login.p50ms} ms, p99 ${report.login.p99ms} ms |`,
  `| login, one at a time (n=${report.loginSequentialMs.n}) | p50 ${report.loginSequentialMs.p50} ms, p99 ${report.loginSequentialMs.p99} ms |`,
  `| one argon2id verify alone, in-process (n=${report.verifyMsInProcess.n}) | p50 ${report.verifyMsInProcess.p50} ms, p99 ${report.verifyMsInProcess.p99} ms |`,
  `| signup, one at a time (n=${report.signupMs.n}) | p50 ${report.signupMs.p50} ms, p99 ${report.signupMs.p99} ms |`,
  '',
  `The ceiling set by the hash alone is about ${report.machine.cpus} cores ÷ ${report.verifyMsInProcess.p50} ms ≈ ${Math.round((report.machine.cpus * 1000) / report.verifyMsInProcess.p50)} logins/s; a login adds a user lookup, a session insert and an audit row.`,
  '',
].join('\n');
await writeResults('auth', report, md);
process.stdout.write(md);
