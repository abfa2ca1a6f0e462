import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { generate } from 'otplib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventsJob, QueueName } from '#libs/queue';
import { PgListener } from '../../apps/worker/src/common/pg-listener.js';
import { deploy, insertOutbox, runsOf, type Stack, startStack, svc, waitForRun } from './support.js';

/** A function that records what it received, so a test can read its event back from the run. */
const ECHO = 'export default (event) => ({ seen: event })';

const dbChange = (collection: string, operation: string, after: Record<string, unknown> | null = { id: 'd1', title: 'hi' }) => ({
  collection,
  operation,
  documentId: 'd1',
  before: null,
  after,
  actor: { type: 'anonymous' },
});

async function waitForRuns(stack: Stack, name: string, count: number) {
  await expect.poll(async () => (await runsOf(stack, name)).length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(count);
  const runs = await runsOf(stack, name);
  return Promise.all(runs.map((r) => waitForRun(stack, r.id)));
}

describe('functions: event triggers, the outbox relay and exactly-once runs', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    stack = await startStack();
    http = request(stack.api.getHttpServer());
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('db trigger: a committed db.change on the collection and operation runs the function with the change', async () => {
    await deploy(stack, 'on-post', { source: ECHO, language: 'js', triggers: [{ type: 'db', collection: 'posts', events: ['create'] }] });
    const eventId = await insertOutbox(stack, 'db.change', dbChange('posts', 'create'));
    await insertOutbox(stack, 'db.change', dbChange('posts', 'delete')); // not subscribed
    await insertOutbox(stack, 'db.change', dbChange('comments', 'create')); // another collection
    const [run] = await waitForRuns(stack, 'on-post', 1);
    expect(run).toMatchObject({ trigger: 'db', status: 'succeeded', eventId });
    expect(run!.result).toEqual({
      seen: { id: eventId, type: 'db', collection: 'posts', operation: 'create', documentId: 'd1', before: null, after: { id: 'd1', title: 'hi' }, actor: { type: 'anonymous' } },
    });
    // The two other events were published too, and started nothing.
    await expect
      .poll(async () => (await stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL')).rows[0]!.n)
      .toBe(0);
    expect(await runsOf(stack, 'on-post')).toHaveLength(1);
  });

  it('storage trigger: an upload event on the bucket runs the function', async () => {
    await deploy(stack, 'on-upload', { source: ECHO, language: 'js', triggers: [{ type: 'storage', bucket: 'images', events: ['upload'] }] });
    const file = { id: randomUUID(), bucket: 'images', key: 'a.png', size: 3, contentType: 'image/png', ownerId: null };
    const eventId = await insertOutbox(stack, 'storage.change', { bucket: 'images', operation: 'upload', file, actor: { type: 'anonymous' } });
    await insertOutbox(stack, 'storage.change', { bucket: 'images', operation: 'delete', file, actor: { type: 'anonymous' } });
    const [run] = await waitForRuns(stack, 'on-upload', 1);
    expect(run).toMatchObject({ trigger: 'storage', status: 'succeeded', eventId });
    expect(run!.result).toMatchObject({ seen: { type: 'storage', bucket: 'images', operation: 'upload', file } });
  });

  it('auth trigger: a real signup runs the function with the new user', async () => {
    await deploy(stack, 'on-signup', { source: ECHO, language: 'js', triggers: [{ type: 'auth', events: ['signup'] }] });
    const email = `new-${randomUUID()}@example.test`;
    const signup = await http.post('/v1/auth/signup').send({ email, password: 'correct horse battery staple' }).expect(201);
    const [run] = await waitForRuns(stack, 'on-signup', 1);
    expect(run).toMatchObject({ trigger: 'auth', status: 'succeeded' });
    expect(run!.result).toMatchObject({ seen: { type: 'auth', operation: 'signup', user: { id: signup.body.user.id, email } } });
  });

  it('auth trigger: mfa_enrolled, link and unlink events run the functions subscribed to them, and only those', async () => {
    await deploy(stack, 'on-mfa', { source: ECHO, language: 'js', triggers: [{ type: 'auth', events: ['mfa_enrolled'] }] });
    await deploy(stack, 'on-link', { source: ECHO, language: 'js', triggers: [{ type: 'auth', events: ['link', 'unlink'] }] });
    // A real enrolment over HTTP (a TOTP code generated from the secret the api answered).
    const signup = await http.post('/v1/auth/signup').send({ email: `mfa-${randomUUID()}@example.test`, password: 'correct horse battery staple' }).expect(201);
    const auth = { Authorization: `Bearer ${signup.body.accessToken as string}` };
    const enrol = await http.post('/v1/auth/mfa/totp').set(auth).expect(200);
    await http.post('/v1/auth/mfa/totp/confirm').set(auth).send({ code: await generate({ secret: enrol.body.secret as string }) }).expect(200);
    const [mfaRun] = await waitForRuns(stack, 'on-mfa', 1);
    expect(mfaRun!.result).toMatchObject({ seen: { type: 'auth', operation: 'mfa_enrolled', userId: signup.body.user.id, factor: 'totp' } });
    // Link and unlink as the api writes them (the provider flow is tested in test/auth/oauth.e2e-spec.ts).
    await insertOutbox(stack, 'auth.identity', { operation: 'link', userId: signup.body.user.id, provider: 'google' });
    await insertOutbox(stack, 'auth.identity', { operation: 'unlink', userId: signup.body.user.id, provider: 'google' });
    const runs = await waitForRuns(stack, 'on-link', 2);
    expect(runs.map((r) => (r.result as { seen: { operation: string } }).seen.operation).sort()).toEqual(['link', 'unlink']);
    expect(await runsOf(stack, 'on-mfa')).toHaveLength(1);
    // An auth trigger on an event that does not exist is refused at deploy.
    const bad = await http.put('/v1/functions/on-nothing').set(svc).send({ source: ECHO, language: 'js', triggers: [{ type: 'auth', events: ['logout'] }] });
    expect(bad.status).toBe(400);
  });

  it('runs a function once when the same event is delivered twice', async () => {
    await deploy(stack, 'once', { source: ECHO, language: 'js', triggers: [{ type: 'db', collection: 'orders', events: ['create'] }] });
    const payload = dbChange('orders', 'create');
    const eventId = await insertOutbox(stack, 'db.change', payload);
    await waitForRuns(stack, 'once', 1);

    // 1. The relay publishes the same outbox row again (as after a crash before its commit,
    // which rolls back the delete of the published row).
    await insertOutbox(stack, 'db.change', payload, eventId);
    await expect
      .poll(async () => (await stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events WHERE id = $1', [eventId])).rows[0]!.n)
      .toBe(0);
    // 2. The same event arrives as a different job (BullMQ's jobId dedupe cannot help here).
    const queue = new Queue(QueueName.Events, { connection: { url: inject('redisUrl') }, prefix: stack.queuePrefix });
    const job = await queue.add(
      EventsJob.DbChange,
      { id: eventId, type: 'db.change', payload, createdAt: new Date().toISOString() },
      { jobId: `redelivery-${eventId}` },
    );
    await expect.poll(async () => (await queue.getJobState(job.id!)) === 'completed', { timeout: 10_000 }).toBe(true);
    expect((await queue.getJob(job.id!))?.returnvalue).toEqual({ runs: 0 });
    await queue.close();

    const runs = await runsOf(stack, 'once');
    expect(runs).toHaveLength(1);
    const receipts = await stack.db.query('SELECT count(*)::int AS n FROM function_event_receipts WHERE event_id = $1', [eventId]);
    expect(receipts.rows[0].n).toBe(1);
  });

  it('gives each subscribed function its own run of one event', async () => {
    await deploy(stack, 'fan-a', { source: ECHO, language: 'js', triggers: [{ type: 'db', collection: 'fan', events: ['update'] }] });
    await deploy(stack, 'fan-b', { source: ECHO, language: 'js', triggers: [{ type: 'db', collection: 'fan', events: ['update', 'delete'] }] });
    const eventId = await insertOutbox(stack, 'db.change', dbChange('fan', 'update'));
    const [a] = await waitForRuns(stack, 'fan-a', 1);
    const [b] = await waitForRuns(stack, 'fan-b', 1);
    expect(a!.eventId).toBe(eventId);
    expect(b!.eventId).toBe(eventId);
  });

  it('loses no event while no worker runs, and needs no NOTIFY to find them', async () => {
    await deploy(stack, 'durable', { source: ECHO, language: 'js', triggers: [{ type: 'db', collection: 'durable', events: ['create'] }] });
    for (const w of stack.workers.splice(0)) await w.close();
    const ids = [
      await insertOutbox(stack, 'db.change', dbChange('durable', 'create')),
      await insertOutbox(stack, 'db.change', dbChange('durable', 'create')),
    ];
    const worker = await stack.startWorker();
    const runs = await waitForRuns(stack, 'durable', 2);
    expect(runs.map((r) => r.eventId).sort()).toEqual([...ids].sort());

    // Without its LISTEN connection the relay still finds new events by polling.
    await worker.get(PgListener).onApplicationShutdown();
    const late = await insertOutbox(stack, 'db.change', dbChange('durable', 'create'));
    const all = await waitForRuns(stack, 'durable', 3);
    expect(all.map((r) => r.eventId)).toContain(late);
  });

  it('lists runs with filters', async () => {
    const byTrigger = await http.get('/v1/functions/runs?trigger=auth').set(svc).expect(200);
    expect(byTrigger.body.items.length).toBeGreaterThan(0);
    expect(byTrigger.body.items.every((r: { trigger: string }) => r.trigger === 'auth')).toBe(true);
    const byStatus = await http.get('/v1/functions/on-post/runs?status=succeeded&limit=1').set(svc).expect(200);
    expect(byStatus.body.items).toHaveLength(1);
    expect(byStatus.body.items[0].function).toBe('on-post');
    const byEvent = await http.get(`/v1/functions/runs?eventId=${byStatus.body.items[0].eventId}`).set(svc).expect(200);
    expect(byEvent.body.items.map((r: { id: string }) => r.id)).toEqual([byStatus.body.items[0].id]);
    // Cursor paging walks every run exactly once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await http
        .get(`/v1/functions/runs?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(svc)
        .expect(200);
      seen.push(...page.body.items.map((r: { id: string }) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const total = await stack.db.query('SELECT count(*)::int AS n FROM function_runs');
    expect(seen).toHaveLength(total.rows[0].n);
    await http.get('/v1/functions/runs?status=bogus').set(svc).expect(400);
  });
});
