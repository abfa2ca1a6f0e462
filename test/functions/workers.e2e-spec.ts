import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { isolatedDatabase, spawnWorker, stopWorker, WORKER_MAIN } from './support.js';

/**
 * Worker replicas as real processes from the build (`npm test` builds first): two share the
 * runs, and a run in flight on a killed worker is finished by the other (stalled-job recovery).
 */
describe('functions: worker replicas', () => {
  let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
  let api: NestFastifyApplication;
  let apiUrl: string;
  const children: ChildProcess[] = [];
  const svc = { 'x-api-key': SERVICE_KEY };

  async function startWorker(): Promise<ChildProcess> {
    const child = await spawnWorker({ databaseUrl: isolated.databaseUrl, queuePrefix: isolated.queuePrefix, apiUrl });
    children.push(child);
    return child;
  }

  const http = () => request(api.getHttpServer());
  const run = async (id: string) =>
    (await http().get(`/v1/functions/runs/${id}`).set(svc).expect(200)).body as { status: string; attempts: number; result: unknown };

  beforeAll(async () => {
    if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run \`npm run build\` first (npm test does).`);
    isolated = await isolatedDatabase();
    api = await startApi(testConfig({ DATABASE_URL: isolated.databaseUrl, QUEUE_PREFIX: isolated.queuePrefix }));
    await api.listen({ port: 0, host: '127.0.0.1' });
    const address = api.getHttpServer().address();
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    await http()
      .put('/v1/functions/nap')
      .set(svc)
      .send({
        source: 'export default async (event) => { const s = Date.now(); await new Promise((r) => setTimeout(r, event.payload.ms)); return { s, e: Date.now() }; }',
        language: 'js',
        timeoutMs: 20_000,
        retries: 0,
      })
      .expect(201);
  });
  afterEach(() => {
    for (const child of children) stopWorker(child);
    children.length = 0;
  });
  afterAll(async () => {
    await api?.close();
    await isolated?.drop();
  });

  it('two worker processes share the runs', async () => {
    await Promise.all([startWorker(), startWorker()]);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await http().post('/v1/functions/nap/invoke?async=true').set(svc).send({ ms: 500 }).expect(202)).body.runId);
    }
    await expect.poll(async () => (await Promise.all(ids.map(run))).every((r) => r.status === 'succeeded'), { timeout: 20_000 }).toBe(true);
    const spans = (await Promise.all(ids.map(run))).map((r) => r.result as { s: number; e: number });
    // Each worker runs one job at a time (WORKER_CONCURRENCY=1): overlapping runs mean two workers.
    const overlapping = spans.some((a, i) => spans.some((b, j) => i !== j && a.s < b.e && b.s < a.e));
    expect(overlapping).toBe(true);
  }, 60_000);

  it("retries a killed worker's run in flight on the other worker", async () => {
    const first = await startWorker();
    const id = (await http().post('/v1/functions/nap/invoke?async=true').set(svc).send({ ms: 2500 }).expect(202)).body.runId as string;
    await expect.poll(async () => (await run(id)).status, { timeout: 15_000, interval: 50 }).toBe('running');
    // Killed before the replacement starts, so the first attempt cannot finish even when a
    // loaded machine makes the second worker slow to boot.
    process.kill(first.pid!, 'SIGKILL'); // the worker only: its sandbox host exits on its own
    await startWorker();
    await expect.poll(async () => (await run(id)).status, { timeout: 45_000, interval: 200 }).toBe('succeeded');
    expect((await run(id)).attempts).toBe(2);
  }, 90_000);
});
