// Answer times of `password-reset/request` and `magic-link/request` for an existing and an
// unknown email (issue 11, finding 12). Both answer before any work that depends on the
// account, so the two distributions should be the same; this records them.
//
//   npm run build && node bench/auth-enumeration.mjs      (BENCH_ENUM_SAMPLES=300)
//
// Requests alternate between the two emails one at a time, so load drifts affect both
// alike. Each email gets its own budget: AUTH_RATE_LIMIT_MAX is raised for the run.
// Results: bench/results/auth-enumeration.json and .md.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appEnv, call, createDatabase, dropRedisPrefix, machine, runNode, runSuffix, startApi, summary, withCleanup, writeResults } from './lib.mjs';

const SAMPLES = Number(process.env.BENCH_ENUM_SAMPLES ?? 300);
const suffix = runSuffix();
const startedAt = new Date();

const result = await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_enum_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_enum_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const api = await startApi(
    appEnv(db.url, prefix, { AUTH_RATE_LIMIT_MAX: '100000', MAIL_DIR: join(tmpdir(), `baas-bench-mail-${suffix}`) }),
  );
  const existing = `bench-enum-${suffix}@example.test`;
  const unknown = `nobody-${suffix}@example.test`;
  await call(api.base, 'POST', '/v1/auth/signup', { email: existing, password: 'correct horse battery staple' });

  const routes = {};
  for (const route of ['/v1/auth/password-reset/request', '/v1/auth/magic-link/request']) {
    const times = { existing: [], unknown: [] };
    for (let i = 0; i < SAMPLES * 2; i++) {
      const which = i % 2 === 0 ? 'existing' : 'unknown';
      const t0 = performance.now();
      await call(api.base, 'POST', route, { email: which === 'existing' ? existing : unknown });
      // The first 10% of each series is warm-up.
      if (i >= SAMPLES / 5) times[which].push(performance.now() - t0);
    }
    routes[route] = { existing: summary(times.existing), unknown: summary(times.unknown) };
  }
  return { routes };
});

const report = { date: startedAt.toISOString(), machine: machine(), samples: SAMPLES, ...result };
const rows = Object.entries(report.routes).flatMap(([route, r]) =>
  ['existing', 'unknown'].map((k) => `| \`${route}\` | ${k} | ${r[k].n} | ${r[k].min} | ${r[k].p50} | ${r[k].p99} | ${r[k].max} |`),
);
const md = [
  '# Auth enumeration timing',
  '',
  `Run ${report.date} by \`node bench/auth-enumeration.mjs\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}. Answer times (ms) over loopback, requests one at a time, alternating between an email with an account and one without.`,
  '',
  '| route | email | n | min | p50 | p99 | max |',
  '|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
await writeResults('auth-enumeration', report, md);
process.stdout.write(md);
