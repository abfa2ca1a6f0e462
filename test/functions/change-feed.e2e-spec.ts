import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { QueueName } from '#libs/queue';
import { deploy, spawnWorker, type Stack, startStack, stopWorker, svc } from './support.js';

const NOOP = 'export default async () => null';
const RULES = { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' };

/**
 * The change feed (docs/functions.md "When a trigger starts and stops seeing events"): a write
 * records an event only when a function subscribes to it, decided in the write's own
 * statement; deploys and deletes take effect for every write sent after they returned.
 */
describe('change feed: writes pay only for the consumers they have', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;
  let events: Queue;
  let functions: Queue;
  const children: ChildProcess[] = [];

  const count = async (sql: string, values: unknown[] = []) => (await stack.db.query<{ n: number }>(sql, values)).rows[0]!.n;
  const outboxRows = () => count('SELECT count(*)::int AS n FROM outbox_events');
  /** Jobs the events and functions queues hold in any state (completed ones are kept: removeOnComplete keeps 1000). */
  const queueJobs = async () =>
    [...Object.values(await events.getJobCounts()), ...Object.values(await functions.getJobCounts())].reduce((a, b) => a + b, 0);
  const collection = async (name: string) => {
    await http.post('/v1/collections').set(svc).send({ name, fields: [{ name: 'n', type: 'number' }], rules: RULES }).expect(201);
  };
  /** Waits until the relay and the fan-out are idle: no outbox row, no events job waiting or running. */
  const settled = async () => {
    await expect
      .poll(async () => (await outboxRows()) + (await events.getWaitingCount()) + (await events.getActiveCount()) + (await events.getDelayedCount()), {
        timeout: 30_000,
        interval: 100,
      })
      .toBe(0);
  };

  beforeAll(async () => {
    stack = await startStack({ RETENTION_SWEEP_INTERVAL_MS: '1000' });
    http = request(stack.api.getHttpServer());
    events = new Queue(QueueName.Events, { connection: { url: inject('redisUrl') }, prefix: stack.queuePrefix });
    functions = new Queue(QueueName.Functions, { connection: { url: inject('redisUrl') }, prefix: stack.queuePrefix });
  });
  afterEach(() => {
    for (const child of children) stopWorker(child);
    children.length = 0;
  });
  afterAll(async () => {
    await events?.close();
    await functions?.close();
    await stack?.close();
  });

  it('without a trigger, document, storage and auth writes record no event and make no queue job', async () => {
    await collection('quiet');
    await http.post('/v1/storage/buckets').set(svc).send({ name: 'quiet-files' }).expect(201);
    const jobsBefore = await queueJobs();
    const doc = (await http.post('/v1/collections/quiet/documents').send({ n: 1 }).expect(201)).body as { id: string };
    await http.patch(`/v1/collections/quiet/documents/${doc.id}`).send({ n: 2 }).expect(200);
    await http.delete(`/v1/collections/quiet/documents/${doc.id}`).expect(204);
    await http.post('/v1/batch').set(svc).send({ transaction: true, operations: [{ op: 'create', collection: 'quiet', data: { n: 3 } }] }).expect(200);
    const file = await http.post('/v1/storage/buckets/quiet-files/files').set(svc).attach('file', Buffer.from('hi'), 'a.txt').expect(201);
    await http.delete(`/v1/storage/files/${file.body.id}`).set(svc).expect(204);
    await http.post('/v1/auth/signup').send({ email: 'quiet@example.test', password: 'correct horse battery staple' }).expect(201);
    // The check is part of each write's own statement: nothing to wait for.
    expect(await outboxRows()).toBe(0);

    // A function on another collection: the same writes still record nothing, and the
    // sentinel event proves the relay and fan-out ran meanwhile (so no job was merely late).
    await collection('loud');
    await deploy(stack, 'on-loud', { source: NOOP, language: 'js', triggers: [{ type: 'db', collection: 'loud', events: ['create'] }] });
    await http.post('/v1/collections/quiet/documents').send({ n: 4 }).expect(201);
    await http.post('/v1/collections/loud/documents').send({ n: 1 }).expect(201);
    await expect.poll(() => count("SELECT count(*)::int AS n FROM function_runs r JOIN functions f ON f.id = r.function_id WHERE f.name = 'on-loud'"), { timeout: 15_000 }).toBe(1);
    await settled();
    expect(await queueJobs()).toBe(jobsBefore + 1);
  });

  it('a trigger deployed while writes run sees every write sent after the deploy returned, and none twice', async () => {
    await collection('boundary');
    type Write = { id: string; sentAt: number; doneAt: number };
    const writes: Write[] = [];
    let stop = false;
    const writer = async () => {
      while (!stop) {
        const sentAt = performance.now();
        const res = await fetch(`${stack.apiUrl}/v1/collections/boundary/documents`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n: writes.length }),
        });
        expect(res.status).toBe(201);
        writes.push({ id: ((await res.json()) as { id: string }).id, sentAt, doneAt: performance.now() });
      }
    };
    const writers = Array.from({ length: 4 }, writer);
    await expect.poll(() => writes.length, { timeout: 10_000, interval: 10 }).toBeGreaterThan(20);
    const deployStart = performance.now();
    await deploy(stack, 'on-boundary', { source: NOOP, language: 'js', triggers: [{ type: 'db', collection: 'boundary', events: ['create'] }] });
    const deployEnd = performance.now();
    const atDeploy = writes.length;
    await expect.poll(() => writes.length, { timeout: 10_000, interval: 10 }).toBeGreaterThan(atDeploy + 20);
    stop = true;
    await Promise.all(writers);
    await settled();

    const { rows } = await stack.db.query<{ id: string; n: number }>(
      `SELECT r.event->>'documentId' AS id, count(*)::int AS n FROM function_runs r JOIN functions f ON f.id = r.function_id
        WHERE f.name = 'on-boundary' GROUP BY 1`,
    );
    const runs = new Map(rows.map((r) => [r.id, r.n]));
    const before = writes.filter((w) => w.doneAt < deployStart);
    const after = writes.filter((w) => w.sentAt > deployEnd);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect(before.filter((w) => runs.has(w.id))).toEqual([]); // finished before the deploy began: never delivered
    expect(after.filter((w) => runs.get(w.id) !== 1)).toEqual([]); // sent after it returned: delivered, once
    expect(rows.filter((r) => r.n !== 1)).toEqual([]); // nothing doubled, in the window either
    expect(rows.every((r) => writes.some((w) => w.id === r.id))).toBe(true);
  }, 60_000);

  it('removing the trigger stops the events: no outbox row, no job', async () => {
    await collection('removed');
    await deploy(stack, 'on-removed', { source: NOOP, language: 'js', triggers: [{ type: 'db', collection: 'removed', events: ['create'] }] });
    await http.post('/v1/collections/removed/documents').send({ n: 1 }).expect(201);
    await settled();
    expect(await count("SELECT count(*)::int AS n FROM function_runs r JOIN functions f ON f.id = r.function_id WHERE f.name = 'on-removed'")).toBe(1);
    const jobsBefore = await queueJobs();
    await http.delete('/v1/functions/on-removed').set(svc).expect(204);
    for (let i = 0; i < 5; i++) await http.post('/v1/collections/removed/documents').send({ n: i }).expect(201);
    expect(await outboxRows()).toBe(0);
    await settled();
    expect(await queueJobs()).toBe(jobsBefore);
  });

  it('the retention sweep deletes finished runs and receipts older than the retention, and keeps the rest', async () => {
    await deploy(stack, 'kept', { source: NOOP, language: 'js', triggers: [{ type: 'http' }] });
    const { rows } = await stack.db.query<{ id: string; status: string; age: number }>(
      `WITH f AS (SELECT f.id, v.id AS version_id FROM functions f JOIN function_versions v ON v.function_id = f.id WHERE f.name = 'kept'),
            spec(status, age) AS (VALUES ('succeeded', 31), ('dead', 40), ('failed', 31), ('running', 40), ('succeeded', 29), ('succeeded', 0))
       INSERT INTO function_runs (function_id, version_id, version, trigger, event_id, event, status, max_attempts, created_at)
       SELECT f.id, f.version_id, 1, 'db', gen_random_uuid(), '{}', spec.status, 1, now() - make_interval(days => spec.age) FROM f, spec
       RETURNING id, status, (extract(day FROM now() - created_at))::int AS age`,
    );
    await stack.db.query(
      `INSERT INTO function_event_receipts (function_id, event_id, run_id, created_at)
       SELECT function_id, event_id, id, created_at FROM function_runs WHERE id = ANY($1::uuid[])`,
      [rows.map((r) => r.id)],
    );
    const expired = rows.filter((r) => r.age >= 30 && r.status !== 'running').map((r) => r.id); // age: whole days, rounded down
    const left = async () => (await stack.db.query<{ id: string }>('SELECT id FROM function_runs WHERE id = ANY($1::uuid[])', [rows.map((r) => r.id)])).rows.map((r) => r.id);
    await expect.poll(async () => (await left()).length, { timeout: 15_000, interval: 200 }).toBe(rows.length - expired.length);
    expect((await left()).filter((id) => expired.includes(id))).toEqual([]);
    expect(await count('SELECT count(*)::int AS n FROM function_event_receipts WHERE run_id = ANY($1::uuid[])', [expired])).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM function_event_receipts WHERE run_id = ANY($1::uuid[])', [rows.map((r) => r.id)])).toBe(rows.length - expired.length);
    // One scheduler per sweep (retention, the guest cleanup of docs/auth.md, the outbox poll and the
    // run and email sweepers), whichever worker upserted it.
    const system = new Queue(QueueName.System, { connection: { url: inject('redisUrl') }, prefix: stack.queuePrefix });
    expect((await system.getJobSchedulers()).map((j) => j.key).sort()).toEqual(['email-sweep', 'guest-cleanup', 'outbox-poll', 'retention-sweep', 'run-sweep']);
    await system.close();
  });

  it('a worker killed (SIGKILL) while it relays a backlog loses no event and runs none twice', async () => {
    const N = 1500;
    await deploy(stack, 'on-backlog', { source: NOOP, language: 'js', triggers: [{ type: 'db', collection: 'backlog', events: ['create'] }] });
    // The in-process worker stops, so the backlog waits for the worker processes below.
    for (const w of stack.workers.splice(0)) await w.close();
    await stack.db.query(
      `INSERT INTO outbox_events (type, payload)
       SELECT 'db.change', jsonb_build_object('collection', 'backlog', 'operation', 'create', 'documentId', gen_random_uuid(),
              'before', null, 'after', jsonb_build_object('i', i), 'actor', jsonb_build_object('type', 'anonymous'))
         FROM generate_series(1, $1::int) AS i`,
      [N],
    );
    const target = { databaseUrl: stack.databaseUrl, queuePrefix: stack.queuePrefix, apiUrl: stack.apiUrl };
    const first = await spawnWorker(target);
    children.push(first);
    // Killed as soon as the relay has taken a first batch: in the middle of draining.
    await expect.poll(outboxRows, { timeout: 20_000, interval: 5 }).toBeLessThan(N);
    stopWorker(first, 'SIGKILL');
    const leftAtKill = await outboxRows();
    expect(leftAtKill).toBeGreaterThan(0);

    children.push(await spawnWorker(target, { WORKER_CONCURRENCY: '8' }));
    const receipts = () => count("SELECT count(*)::int AS n FROM function_event_receipts e JOIN functions f ON f.id = e.function_id WHERE f.name = 'on-backlog'");
    await expect.poll(receipts, { timeout: 90_000, interval: 250 }).toBe(N);
    expect(await outboxRows()).toBe(0);
    const runs = await stack.db.query<{ runs: number; events: number }>(
      `SELECT count(*)::int AS runs, count(DISTINCT r.event_id)::int AS events FROM function_runs r JOIN functions f ON f.id = r.function_id WHERE f.name = 'on-backlog'`,
    );
    expect(runs.rows[0]).toEqual({ runs: N, events: N });
  }, 150_000);
});
