// Profiling aid for the storage upload's memory (not part of `npm run bench`): one 200 MiB
// streamed upload through the built api, with the S3 driver (s3rver in this process) or the
// local driver, printing the api's RSS before and its peak (VmHWM) during the upload, and the
// api's own heap/external figures from `process.memoryUsage()` via the metrics endpoint.
//
//   node bench/profile-upload-memory.mjs s3|local ["--node-flag ..."] [ENV=value ...]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { appEnv, createDatabase, dropRedisPrefix, memoryOf, resetPeak, runNode, runSuffix, SERVICE_KEY, sleep, startApi, withCleanup } from './lib.mjs';

const driver = process.argv[2] ?? 's3';
const nodeArgs = (process.argv[3] ?? '').split(' ').filter(Boolean);
const extraEnv = Object.fromEntries(process.argv.slice(4).map((kv) => kv.split('=')));
const MiB = 1024 * 1024;
const SIZE = Number(process.env.UPLOAD_MB ?? 200) * MiB;

function upload(base, size) {
  const boundary = `----b${randomBytes(6).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const block = randomBytes(MiB);
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/v1/storage/buckets/bench-mem/files`, {
      method: 'POST',
      headers: { 'x-api-key': SERVICE_KEY, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + size + tail.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.write(head);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(MiB, size - sent);
        sent += n;
        if (!req.write(n === MiB ? block : block.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end(tail);
    };
    pump();
  });
}

const suffix = runSuffix();
await withCleanup(async (onCleanup) => {
  const db = await createDatabase(`baas_bench_mem_${suffix}`);
  onCleanup(() => db.drop());
  onCleanup(() => dropRedisPrefix(`bench_mem_${suffix}`));
  await runNode(['dist/libs/database/src/migrate.main.js'], { DATABASE_URL: db.url });
  const dir = await mkdtemp(join(os.tmpdir(), 'baas-bench-mem-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  let env = appEnv(db.url, `bench_mem_${suffix}`, { STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir, ...extraEnv });
  if (driver === 's3') {
    const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'bench' }] });
    const { port } = await s3.run();
    onCleanup(() => s3.close());
    env = { ...env, STORAGE_DRIVER: 's3', S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER', S3_BUCKET: 'bench' };
  }
  const api = await startApi(env, nodeArgs);
  await fetch(`${api.base}/v1/storage/buckets`, { method: 'POST', headers: { 'x-api-key': SERVICE_KEY, 'content-type': 'application/json' }, body: '{"name":"bench-mem"}' }).then(async (r) => { if (!r.ok) throw new Error(`bucket: ${r.status} ${await r.text()}`); });
  for (let i = 0; i < 3; i++) await upload(api.base, 2 * MiB);
  await sleep(500);
  const idle = await memoryOf(api.child.pid);
  await resetPeak(api.child.pid);
  let max = 0;
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      max = Math.max(max, (await memoryOf(api.child.pid)).rssMiB);
      await sleep(10);
    }
  })();
  const t0 = performance.now();
  const status = await upload(api.base, SIZE);
  const secs = (performance.now() - t0) / 1000;
  stop = true;
  await sampler;
  const after = await memoryOf(api.child.pid);
  console.log(JSON.stringify({ driver, nodeArgs, extraEnv, status, MiBps: Math.round(SIZE / MiB / secs), idleRss: idle.rssMiB, peak: after.peakMiB, growth: Math.round((after.peakMiB - idle.rssMiB) * 10) / 10, sampledMax: max }));
});
