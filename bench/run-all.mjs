// Runs every benchmark scenario, one script after the other, then writes the summary table
// (bench/results/summary.md + .json) and puts it into bench/README.md between its
// "results" markers. `npm run bench` builds first, then runs this.
//
//   node bench/run-all.mjs                 every script
//   node bench/run-all.mjs auth storage    only these (the summary uses the last results of the others)
//   node bench/run-all.mjs --summary       nothing: the summary from the recorded results
//
// Installs Parse Server (bench/parse, `npm ci`) when it is missing. Each script creates and
// drops its own databases and Redis prefixes and stops the processes it starts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { machine, postgresVersion, readResults, root, writeResults } from './lib.mjs';

/** name → script and extra environment; each writes bench/results/<name>.json and .md. */
const SCRIPTS = [
  { name: 'data', script: 'bench/data.mjs', env: { DURATION: process.env.DURATION ?? '6' } },
  { name: 'compare-parse', script: 'bench/compare-parse.mjs', env: {} },
  { name: 'system', script: 'bench/system.mjs', env: {} },
  { name: 'auth', script: 'bench/auth.mjs', env: {} },
  { name: 'functions', script: 'bench/functions.mjs', env: {} },
  { name: 'functions-noop', script: 'bench/functions-noop.mjs', env: {} },
  { name: 'storage', script: 'bench/storage.mjs', env: {} },
  { name: 'gateway', script: 'bench/gateway.mjs', env: {} },
  { name: 'gateway-instructions', script: 'bench/gateway-instructions.mjs', env: {} },
  { name: 'realtime', script: 'bench/realtime.mjs', env: {} },
  { name: 'rules', script: 'bench/rules.mjs', env: {} },
  { name: 'revocation', script: 'bench/revocation.mjs', env: {} },
];

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

// `--summary`: run nothing, rebuild the summary from the recorded results.
const summaryOnly = process.argv.includes('--summary');
const only = process.argv.slice(2).filter((a) => a !== '--summary');
const selected = summaryOnly ? [] : only.length ? SCRIPTS.filter((s) => only.includes(s.name)) : SCRIPTS;
if (!summaryOnly && only.length && selected.length !== only.length) {
  console.error(`unknown benchmark in ${only.join(', ')}; known: ${SCRIPTS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
if (selected.some((s) => s.name === 'compare-parse' || s.name === 'system') && !existsSync(join(root, 'bench', 'parse', 'node_modules', 'parse-server'))) {
  console.log('== installing Parse Server into bench/parse (npm ci)');
  const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
  const code = await run(npm[0], [...npm[1], 'ci', '--prefix', 'bench/parse', '--no-audit', '--no-fund']);
  if (code !== 0) {
    console.error('npm ci --prefix bench/parse failed');
    process.exit(1);
  }
}

const timings = {};
const failed = [];
for (const s of selected) {
  console.log(`\n== ${s.name}: node ${s.script}`);
  const t0 = performance.now();
  const code = await run(process.execPath, [s.script], s.env);
  timings[s.name] = Math.round((performance.now() - t0) / 100) / 10;
  console.log(`== ${s.name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${timings[s.name]} s`);
  if (code !== 0) failed.push(s.name);
}
const totalSeconds = Math.round((performance.now() - started) / 1000);

// ---------------------------------------------------------------- summary

const load = async (name) => readResults(name).catch(() => undefined);
const [cmp, sys, auth, fn, noop, storage, gateway] = await Promise.all(['compare-parse', 'system', 'auth', 'functions', 'functions-noop', 'storage', 'gateway'].map(load));
const yes = (met) => (met === undefined ? '' : met ? 'yes' : '**no**');
const rows = [];
const add = (area, measure, value, target = '', met = undefined) => rows.push({ area, measure, value: String(value), target, met });

if (cmp) {
  for (const r of cmp.scenarios) {
    add(
      'data vs Parse',
      `${r.label} (c=${r.ours.connections})`,
      `ours ${r.ours.requestsPerSec} req/s (p50 ${r.ours.p50ms} / p99 ${r.ours.p99ms} ms) vs Parse ${r.parse.requestsPerSec} req/s (p50 ${r.parse.p50ms} / p99 ${r.parse.p99ms} ms): **${r.ratio}x**`,
      `≥ ${r.targets.ratio.target}x Parse; p99 < 30 ms`,
      r.targets.ratio.met && r.targets.oursP99UnderMs.met,
    );
  }
}
if (sys) {
  for (const r of sys.scenarios) {
    add(
      'whole system (api + worker) vs Parse',
      `${r.label}, ${r.path} (c=${r.ours.connections})`,
      `ours ${r.ours.requestsPerSec} req/s (p99 ${r.ours.p99ms} ms) vs Parse ${r.parse.requestsPerSec}: **${r.ratio}x**; ${Math.round(r.ofRaw * 100)} % of raw (${r.raw.requestsPerSec} req/s)`,
      [`≥ ${r.targets.parseRatio.target}x Parse`, r.targets.p99UnderMs ? 'p99 < 30 ms' : '', r.targets.rawFraction ? '≥ 70 % raw' : ''].filter(Boolean).join('; '),
      r.met,
    );
  }
  const f = sys.feed;
  add('change feed', `db change → function start at ${f.targetRate} writes/s, p50 / p99`, `${f.changeToStartMs.p50} / ${f.changeToStartMs.p99} ms`, 'p50 ≤ 10 ms', f.changeToStartMs.p50 <= 10);
  if (f.changeToRunCreatedMs) add('change feed', 'db change → run created by the fan-out, p50 / p99', `${f.changeToRunCreatedMs.p50} / ${f.changeToRunCreatedMs.p99} ms`);
  add('change feed', 'writes / runs started / lost / doubled', `${f.writes} / ${f.runsStarted} / ${f.lost} / ${f.duplicates}`, '0 lost', f.lost === 0 && f.duplicates === 0);
}
if (auth) {
  const h = auth.hashParams;
  add('auth', `login (c=${auth.login.connections})`, `${auth.login.requestsPerSec} req/s, p50 ${auth.login.p50ms} ms, p99 ${auth.login.p99ms} ms`);
  add('auth', 'password hash', `argon2id m=${h.memoryCost} KiB, t=${h.timeCost}, p=${h.parallelism}: one verify ${auth.verifyMsInProcess.p50} ms (p50)`);
}
if (fn) {
  add('functions', 'cold start: first invoke after deploy, p50 / p99', `${fn.coldInvokeMs.p50} / ${fn.coldInvokeMs.p99} ms`, 'p50 ≤ 15 ms', fn.coldInvokeMs.p50 <= 15);
  add('functions', 'warm invoke, p50 / p99 (in-process handler: p50 ' + fn.inProcessHandlerMs.p50 + ' ms)', `${fn.warmInvokeMs.p50} / ${fn.warmInvokeMs.p99} ms; overhead p50 ${fn.warmOverheadOverInProcessMs} ms`, 'overhead p50 ≤ 3 ms', fn.warmOverheadOverInProcessMs <= 3);
  add('functions', 'db change (commit) → function start, p50 / p99', `${fn.dbChangeToFunctionStartMs.p50} / ${fn.dbChangeToFunctionStartMs.p99} ms`, 'p50 ≤ 20 ms', fn.dbChangeToFunctionStartMs.p50 <= 20);
  for (const [k, v] of Object.entries(fn.throughput)) add('functions', `runs/s, ${k.replace('_', ' ')} (queued runs drained)`, `${v.runsPerSecond} runs/s`);
  if (fn.triggered) add('functions', 'db-triggered runs with one ctx.db write, 2 workers', `${fn.triggered.runsPerSecond} runs/s`, '≥ 500/s', fn.triggered.runsPerSecond >= 500);
  if (fn.warmMemory) add('functions', `memory of ${fn.warmMemory.functions} warm functions (sandbox RSS)`, `${fn.warmMemory.sandboxRssMbBefore} → ${fn.warmMemory.sandboxRssMbAfter} MB`);
}
if (noop) {
  add('functions', `no-op HTTP function, sync invoke (c=${noop.sync.connections}, ${noop.settings.workers} workers)`, `${noop.sync.requestsPerSec} invocations/s, p50 ${noop.sync.p50ms} ms, p99 ${noop.sync.p99ms} ms`, '≥ 1500/s', noop.target.met);
  add('functions', 'no-op HTTP function, `?async=true` (202 once queued)', `${noop.async.requestsPerSec} req/s, p99 ${noop.async.p99ms} ms`);
}
if (storage) {
  for (const d of storage.results) {
    add('storage', `1 MiB upload / download, one at a time (${d.driver})`, `${d.oneMiBUpload?.MiBPerSecond ?? '?'} / ${d.oneMiBDownload?.MiBPerSecond ?? '?'} MiB/s`);
    add('storage', `${storage.largeFileMiB} MiB streamed upload / download (${d.driver})`, `${d.largeUpload.MiBPerSecond} / ${d.largeDownload.MiBPerSecond} MiB/s`);
    add(
      'storage',
      `api RSS during the ${storage.largeFileMiB} MiB upload (${d.driver})`,
      `${d.largeUpload.apiRssIdleMiB} → ${d.largeUpload.apiPeakRssDuringUploadMiB} MiB (+${d.largeUpload.apiPeakGrowthMiB})`,
      '< +64 MiB',
      d.largeUpload.apiPeakGrowthMiB < 64,
    );
  }
}
if (gateway) {
  for (const [kind, o] of Object.entries(gateway.overhead)) {
    const interval = o.costInterval ? `95 % interval ${o.costInterval[0]} … ${o.costInterval[1]} %` : `pairs ${o.costRangePercent[0]} … ${o.costRangePercent[1]} %`;
    const pairs = o.pairs ? `; median of ${o.pairs.length} off/on pairs **${o.costPercent} %** (+${o.addedMicros} µs; ${interval}${o.decisive ? '' : ': not decided by this run'})` : `: **${o.costPercent} %**`;
    add('gateway', `rate limiting + CORS on get by id, ${kind} (c=${gateway.connections})`, `${o.off.requestsPerSec} → ${o.on.requestsPerSec} req/s (${o.throughputCostPercent} %); api CPU/request ${o.off.apiCpuMicrosPerRequest} → ${o.on.apiCpuMicrosPerRequest} µs${pairs}`, '≤ 5 % (CPU/request)', o.decisive === false ? undefined : o.costPercent <= 5);
  }
  const c = gateway.cache;
  const counted = await load('gateway-instructions');
  for (const [kind, o] of Object.entries(counted?.overhead ?? {})) {
    const every = o.costRangePercent[1] <= 5;
    add('gateway', `rate limiting + CORS on get by id, ${kind}: api instructions per request (valgrind)`, `${o.offPerRequest.toLocaleString('en-US')} → ${o.onPerRequest.toLocaleString('en-US')} (+${o.addedPerRequest.toLocaleString('en-US')}): **${o.costPercent} %** (pairs ${o.costRangePercent[0]} … ${o.costRangePercent[1]} %${every || o.costPercent > 5 ? '' : ': median within, not every pair'})`, '≤ 5 %', every ? o.costPercent <= 5 : o.costPercent > 5 ? false : undefined);
  }
  if (counted?.cache) {
    const k = counted.cache;
    add('gateway', '304 vs 200 of one document: api instructions per request (valgrind)', `${k.notModifiedPerRequest.toLocaleString('en-US')} vs ${k.fullPerRequest.toLocaleString('en-US')}`, '304 cheaper', k.cheaperInEveryPair);
  }
  add('gateway', '304 vs 200 of one document', `${c.notModified.requestsPerSec} vs ${c.full.requestsPerSec} req/s; api CPU/request ${c.notModified.apiCpuMicrosPerRequest} vs ${c.full.apiCpuMicrosPerRequest} µs${c.costInterval ? `; median of ${c.pairs.length} pairs ${c.costPercent} % (95 % interval ${c.costInterval[0]} … ${c.costInterval[1]} %)` : ''}`, '304 cheaper', gateway.targets.notModifiedCheaper);
}
const realtime = await load('realtime');
if (realtime) {
  const l = realtime.latency;
  add('realtime', `commit → event with 1000 subscriptions on one api, p50 / p99 (${l.rate} writes/s)`, `${l.p50} / ${l.p99} ms`, 'p50 ≤ 10 ms, p99 ≤ 50 ms', l.p50 <= 10 && l.p99 <= 50);
  const f = realtime.fanout;
  add('realtime', `fan-out of one change to ${f.subscribers} subscribers: first / median / last`, `${f.firstMs.p50} / ${f.medianMs.p50} / ${f.lastMs.p50} ms`);
  add('realtime', 'memory per idle connection (api RSS)', `${realtime.memory.perIdleConnectionKiB} KiB`);
}

const rules = await load('rules');
if (rules) {
  add('rules', `list under an expression rule vs under \`public\` (${rules.documents} documents, c=${rules.connections})`, `${rules.expressionReqPerSec} vs ${rules.publicReqPerSec} req/s: **${rules.ratio}x**`, '≥ 0.9x', rules.met);
}
const revocation = await load('revocation');
if (revocation) {
  const c = revocation.cost;
  add('auth', 'live session check on get by id: anonymous / signed in (cached 2 s) / signed in (no cache)', `${c.anonymous.requestsPerSec} / ${c.cached.requestsPerSec} / ${c.uncached.requestsPerSec} req/s`);
  const r = revocation.revocation;
  add('auth', 'revoked token refused on another replica: logout / user disabled, p50 / max', `${r.logoutMs.p50} / ${r.logoutMs.max} ms; ${r.disableMs.p50} / ${r.disableMs.max} ms`, 'within seconds', revocation.targets.met);
}

const m = machine();
const pgVersion = await postgresVersion().catch(() => 'unknown');
const previous = await readResults('summary').catch(() => undefined);
const ranAll = selected.length === SCRIPTS.length;
const summary = {
  date: new Date().toISOString(),
  machine: { ...m, postgres: pgVersion },
  // The wall time of a full run is kept when only some scripts were re-run.
  fullRunSeconds: ranAll ? totalSeconds : previous?.fullRunSeconds,
  scriptSeconds: { ...(previous?.scriptSeconds ?? {}), ...timings },
  failed,
  rows,
};
const table = [
  `Latest run: ${summary.date} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Postgres ${pgVersion}; api, worker, Postgres, Redis and the load generator share the machine.`,
  `Full \`npm run bench\` wall time: ${summary.fullRunSeconds === undefined ? 'not recorded' : `${Math.floor(summary.fullRunSeconds / 60)} min ${summary.fullRunSeconds % 60} s`} (per script, s: ${Object.entries(summary.scriptSeconds)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}).${failed.length ? ` **Failed: ${failed.join(', ')}.**` : ''}`,
  '',
  '| area | measure | result | target | met |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.area} | ${r.measure} | ${r.value} | ${r.target} | ${yes(r.met)} |`),
  '',
  'Details per script: [data](results/data.md), [compare-parse](results/compare-parse.md), [system](results/system.md), [auth](results/auth.md), [functions](results/functions.md), [functions-noop](results/functions-noop.md), [storage](results/storage.md).',
].join('\n');
await writeResults('summary', summary, `# Benchmark summary\n\n${table.replaceAll('](results/', '](')}\n`);

const readmePath = join(root, 'bench', 'README.md');
if (existsSync(readmePath)) {
  const readme = await readFile(readmePath, 'utf8');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i >= 0 && j > i) await writeFile(readmePath, `${readme.slice(0, i + start.length)}\n${table}\n${readme.slice(j)}`);
}
console.log(`\n${table}\n`);
console.log(`total: ${totalSeconds} s${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
process.exit(failed.length ? 1 : 0);
