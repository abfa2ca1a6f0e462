import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.js';
import { bearer, createUser } from '../support/users.js';
import { deploy, type Stack, startStack, svc, waitForRun } from './support.js';

/** Warm isolates per version seen from the outside: cold/warm per run, metering per day, worker metrics. */
describe('functions: warm starts and metering', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;
  let metricsUrl: string;

  beforeAll(async () => {
    stack = await startStack({}, 0);
    const port = await freePort();
    await stack.startWorker({ WORKER_HEALTH_PORT: String(port) });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    http = request(stack.api.getHttpServer());
  });
  afterAll(async () => {
    await stack?.close();
  });

  const invoke = async (name: string) => {
    const res = await http.post(`/v1/functions/${name}/invoke`).set(svc).send({}).expect(200);
    expect(res.body.status).toBe('succeeded');
    return waitForRun(stack, res.body.runId as string);
  };

  it('records a cold start for a version’s first run and warm starts after it; a new version starts cold', async () => {
    await deploy(stack, 'meter', { source: 'export default () => { const a = new Array(1000).fill(7); return a.length; }', language: 'js', memoryMb: 64 });
    const first = await invoke('meter');
    const second = await invoke('meter');
    expect(first).toMatchObject({ cold: true, result: 1000 });
    expect(second).toMatchObject({ cold: false, result: 1000 });
    for (const run of [first, second]) {
      expect(run.cpuMs).toEqual(expect.any(Number));
      expect(run.memoryBytes).toBeGreaterThan(0);
    }
    await deploy(stack, 'meter', { source: 'export default () => 2' });
    expect(await invoke('meter')).toMatchObject({ cold: true, version: 2 });
    expect(await invoke('meter')).toMatchObject({ cold: false, version: 2 });
  });

  it('sums the metering per function and day in GET /v1/functions/:name/usage', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const res = await http.get('/v1/functions/meter/usage').set(svc).expect(200);
    expect(res.body).toMatchObject({ function: 'meter', to: today, items: [{ day: today, attempts: 4, coldStarts: 2 }] });
    const [day] = res.body.items as { wallMs: number; cpuMs: number; memoryBytesMax: number; gbSeconds: number }[];
    expect(day!.memoryBytesMax).toBeGreaterThan(0);
    expect(day!.cpuMs).toBeGreaterThan(0);
    expect(day!.wallMs).toBeGreaterThanOrEqual(0);
    expect(res.body.total).toMatchObject({ attempts: 4, coldStarts: 2, memoryBytesMax: day!.memoryBytesMax });

    const past = await http.get('/v1/functions/meter/usage?from=2020-01-01&to=2020-01-31').set(svc).expect(200);
    expect(past.body).toMatchObject({ items: [], total: { attempts: 0 } });

    // A day is kept in several rows (shards, so concurrent runs do not wait on one row): the
    // answer is their sum, and the largest memory of any.
    await stack.db.query(
      `INSERT INTO function_usage_daily (function_id, day, shard, attempts, cold_starts, wall_ms, cpu_ms, memory_bytes_max, memory_mb_ms)
       SELECT f.id, '2021-03-04', s.shard, s.attempts, 1, 1000, 2.5, s.mem, 128000 FROM functions f,
              (VALUES (1, 2, 100), (7, 3, 300), (63, 5, 200)) AS s(shard, attempts, mem) WHERE f.name = 'meter'`,
    );
    const sharded = await http.get('/v1/functions/meter/usage?from=2021-03-04&to=2021-03-04').set(svc).expect(200);
    expect(sharded.body.items).toEqual([{ day: '2021-03-04', attempts: 10, coldStarts: 3, wallMs: 3000, cpuMs: 7.5, memoryBytesMax: 300, gbSeconds: 0.375 }]);
    for (const query of ['from=2026-02-01&to=2026-01-01', 'from=2020-01-01&to=2026-01-01', 'from=yesterday', 'to=2026-13-01', 'day=1']) {
      const bad = await http.get(`/v1/functions/meter/usage?${query}`).set(svc);
      expect([query, bad.status, bad.body.code]).toEqual([query, 400, 'VALIDATION_FAILED']);
    }
    await http.get('/v1/functions/nobody/usage').set(svc).expect(404);
    await http.get('/v1/functions/meter/usage').set(bearer(await createUser(stack.api))).expect(403);
  });

  it('writes a synchronous run twice (the api’s insert, one update with its outcome); a run with retries is also marked running', async () => {
    // A test-only trigger counts the statements that write each run.
    await stack.db.query(`CREATE TABLE IF NOT EXISTS test_run_writes (run_id uuid, op text, status text)`);
    await stack.db.query(`CREATE OR REPLACE FUNCTION test_count_run_write() RETURNS trigger AS $$
      BEGIN INSERT INTO test_run_writes VALUES (NEW.id, TG_OP, NEW.status); RETURN NEW; END $$ LANGUAGE plpgsql`);
    await stack.db.query(`CREATE OR REPLACE TRIGGER test_count_run_write AFTER INSERT OR UPDATE ON function_runs
      FOR EACH ROW EXECUTE FUNCTION test_count_run_write()`);
    const writes = async (runId: string) =>
      (await stack.db.query<{ op: string; status: string }>('SELECT op, status FROM test_run_writes WHERE run_id = $1', [runId])).rows;
    try {
      const sync = await http.post('/v1/functions/meter/invoke').set(svc).send({}).expect(200);
      const run = await waitForRun(stack, sync.body.runId as string);
      expect(run).toMatchObject({ status: 'succeeded', attempts: 1, startedAt: expect.any(String), finishedAt: expect.any(String) });
      expect(await writes(sync.body.runId as string)).toEqual([
        { op: 'INSERT', status: 'queued' },
        { op: 'UPDATE', status: 'succeeded' },
      ]);
      const queued = await http.post('/v1/functions/meter/invoke?async=true').set(svc).send({}).expect(202);
      await waitForRun(stack, queued.body.runId as string);
      expect(await writes(queued.body.runId as string)).toEqual([
        { op: 'INSERT', status: 'queued' },
        { op: 'UPDATE', status: 'running' },
        { op: 'UPDATE', status: 'succeeded' },
      ]);
    } finally {
      await stack.db.query('DROP TRIGGER IF EXISTS test_count_run_write ON function_runs');
    }
  });

  it('counts cold and warm attempts in the worker’s Prometheus metrics (not public)', async () => {
    expect((await fetch(metricsUrl)).status).toBe(401);
    const res = await fetch(metricsUrl, { headers: svc });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('function_attempts_total{start="cold",status="succeeded"} 2');
    expect(text).toContain('function_attempts_total{start="warm",status="succeeded"} 4');
    expect(text).toMatch(/^sandbox_hosts 1$/m);
    expect(text).toMatch(/^sandbox_warm_isolates [1-9]\d*$/m);
    expect(text).toMatch(/^sandbox_warm_heap_bytes [1-9]\d*$/m);
    expect(text).toMatch(/^function_cpu_seconds_total \d/m);
  });
});
