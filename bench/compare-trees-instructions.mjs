// Instructions per get by id of two built checkouts (a change's before and after), counted
// by valgrind's callgrind, which no neighbour's load moves. Not part of `npm run bench`.
//
//   node bench/compare-trees-instructions.mjs <dir A> <dir B>   (each with `dist/` built)
//   WARM=3000 N=800 WINDOWS=3 ROUNDS=2
//
// Each tree's api runs alone under callgrind (A, B, A, B, … for ROUNDS), on one database:
// WARM uncounted gets of one document (anonymous caller, collection read rule `public`,
// RATE_LIMIT_ENABLED=false) over one keep-alive connection, then WINDOWS windows of N gets,
// each counted apart. Instructions of V8's major GC and optimizing compilers are left out
// (they land in bursts: callgrindInstructions in lib.mjs). Prints the
// instructions per get of each window and the medians.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { appEnv, call, callgrindInstructions, createDatabase, dropRedisPrefix, freePort, keepAliveClient, root, runNode, runSuffix, SERVICE_KEY, waitFor, withCleanup } from './lib.mjs';

const run = promisify(execFile);
const trees = process.argv.slice(2).map((dir) => resolve(dir));
if (trees.length !== 2) throw new Error('usage: node bench/compare-trees-instructions.mjs <dir A> <dir B>');
const WARM = Number(process.env.WARM ?? 3000);
const N = Number(process.env.N ?? 800);
const WINDOWS = Number(process.env.WINDOWS ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const suffix = runSuffix();
await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_trees_ir_${suffix}`);
  onCleanup(() => db.drop());
  const prefix = `bench_trees_ir_${suffix}`;
  onCleanup(() => dropRedisPrefix(prefix));
  await runNode([join(root, 'dist/libs/database/src/migrate.main.js')], { DATABASE_URL: db.url });
  const out = await mkdtemp(join(os.tmpdir(), 'baas-bench-trees-ir-'));
  onCleanup(() => rm(out, { recursive: true, force: true }));
  const results = new Map(trees.map((tree) => [tree, []]));
  let path;
  for (let n = 0; n < ROUNDS * 2; n++) {
    const tree = trees[n % 2];
    const port = await freePort();
    // No HOST here: valgrind names its control pipe after $HOST, and callgrind_control looks
    // for it under the machine's name. So the api listens on its default 0.0.0.0 for the run;
    // every request goes to 127.0.0.1.
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...appEnv(db.url, prefix, { RATE_LIMIT_ENABLED: 'false', DATA_QUERY_TIMEOUT_MS: '0', HEADERS_TIMEOUT_MS: '600000' }), PORT: String(port) };
    const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${out}/cg.%p`, process.execPath, 'dist/apps/api/src/main.js'], { cwd: tree, env, stdio: 'ignore', detached: true });
    const stop = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    };
    onCleanup(stop);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/v1/health/ready`, 600_000, child);
    if (!path) {
      const service = { 'x-api-key': SERVICE_KEY };
      await call(base, 'POST', '/v1/collections', { name: 'bench_items', fields: [{ name: 'title', type: 'string' }, { name: 'score', type: 'number' }, { name: 'body', type: 'string' }], rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' } }, service);
      const doc = await call(base, 'POST', '/v1/collections/bench_items/documents', { title: 'a document', score: 42, body: 'x'.repeat(240) }, service);
      path = `/v1/collections/bench_items/documents/${doc.id}`;
    }
    const connection = await keepAliveClient(port, `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
    const get = async () => {
      const status = await connection.send();
      if (status !== 200) throw new Error(`answered ${status}`);
    };
    for (let k = 0; k < WARM; k++) await get();
    const control = (...args) => run('callgrind_control', [...args, String(child.pid)]);
    await control('-i', 'on');
    for (let k = 0; k < 100; k++) await get(); // valgrind translates the code afresh
    for (let w = 1; w <= WINDOWS; w++) {
      await control('-z');
      for (let k = 0; k < N; k++) await get();
      await control('-d');
      results.get(tree).push(Math.round((await callgrindInstructions(`${out}/cg.${child.pid}.${w}`)).counted / N));
    }
    connection.close();
    stop();
  }
  const [a, b] = trees.map((tree) => median(results.get(tree)));
  for (const tree of trees) console.log(`${tree}: ${results.get(tree).join(', ')} instructions per get (median ${median(results.get(tree))})`);
  console.log(`B against A: ${(((b - a) / a) * 100).toFixed(1)} %`);
});
