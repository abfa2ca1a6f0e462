import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QueueName } from '#libs/queue';
import { deploy, insertOutbox, runsOf, type Stack, startStack, svc, waitForRun } from './support.js';

/**
 * Every trigger type through the real platform: documents written with the data API,
 * files uploaded to storage, a signup, a schedule, an HTTP call. Each function acts through
 * `ctx` (as the service role, via the api), and the test sees its effect through the api.
 * The functions are the examples of docs/functions.md.
 */
describe('functions: end to end through the data, storage, auth and email APIs', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;
  let dir: string;

  const list = async (collection: string, filter?: object) =>
    (
      await http
        .get(`/v1/collections/${collection}/documents`)
        .set(svc)
        .query(filter ? { filter: JSON.stringify(filter) } : {})
        .expect(200)
    ).body.items as Record<string, unknown>[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baas-fn-'));
    stack = await startStack({ STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: join(dir, 'storage'), MAIL_DIR: join(dir, 'mail') });
    http = request(stack.api.getHttpServer());
    const rules = { list: 'admin', read: 'admin', create: 'public', update: 'admin', delete: 'admin' };
    for (const [name, fields] of [
      ['posts', [{ name: 'title', type: 'string', required: true }]],
      ['post_audit', [{ name: 'postId', type: 'string' }, { name: 'title', type: 'string' }, { name: 'eventId', type: 'string' }]],
      ['sessions_tmp', [{ name: 'expired', type: 'boolean' }]],
    ] as const) {
      await http.post('/v1/collections').set(svc).send({ name, fields, rules }).expect(201);
    }
    for (const bucket of ['uploads', 'thumbnails']) await http.post('/v1/storage/buckets').set(svc).send({ name: bucket }).expect(201);
  });
  afterAll(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('db: a document write runs the function, and the function’s own write is visible', async () => {
    await deploy(stack, 'audit-posts', {
      source: `
        export default async (event, ctx) => { // plain JavaScript: no types needed
          // Idempotent on the event id: a replayed event finds its audit row.
          const seen = await ctx.db.collection('post_audit').list({ filter: { eventId: event.id } });
          if (seen.items.length) return { skipped: true };
          const row = await ctx.db.collection('post_audit').create({ postId: event.documentId, title: event.after.title, eventId: event.id });
          ctx.log('audited', event.documentId);
          return { auditId: row.id };
        };`,
      triggers: [{ type: 'db', collection: 'posts', events: ['create'] }],
    });
    const post = await http.post('/v1/collections/posts/documents').send({ title: 'Hello functions' }).expect(201);
    await expect.poll(async () => (await list('post_audit', { postId: post.body.id })).length, { timeout: 15_000 }).toBe(1);
    const [audit] = await list('post_audit', { postId: post.body.id });
    expect(audit).toMatchObject({ title: 'Hello functions' });

    // The same event delivered twice (the relay publishes the outbox row again): still one effect.
    const [run] = await runsOf(stack, 'audit-posts');
    await waitForRun(stack, run!.id);
    // The first delivery's job is removed so BullMQ's jobId dedupe cannot hide the second one.
    const eventId = run!.eventId as string;
    const events = new Queue(QueueName.Events, { connection: { url: inject('redisUrl') }, prefix: stack.queuePrefix });
    await (await events.getJob(eventId))!.remove();
    // The relay deleted the row it published; a crash before its commit would have kept it: put it back.
    const seen = run!.event as { collection: string; operation: string; documentId: string; before: unknown; after: unknown; actor: unknown };
    const { collection, operation, documentId, before, after, actor } = seen;
    await insertOutbox(stack, 'db.change', { collection, operation, documentId, before, after, actor }, eventId);
    await expect.poll(async () => (await events.getJob(eventId))?.returnvalue as unknown, { timeout: 10_000 }).toEqual({ runs: 0 });
    await events.close();
    expect(await runsOf(stack, 'audit-posts')).toHaveLength(1);
    expect(await list('post_audit', { postId: post.body.id })).toHaveLength(1);
  });

  it('storage: an upload runs the function, which writes a derived file to another bucket', async () => {
    await deploy(stack, 'thumbnail', {
      source: `
        export default async (event, ctx) => {
          const original = await ctx.storage.download(event.file.id);
          // A stand-in for resizing: the thumbnail is the first 8 bytes.
          const thumb = original.data.slice(0, 8);
          const file = await ctx.storage.upload('thumbnails', 'thumbs/' + event.file.key, thumb, { contentType: original.contentType });
          return { thumbnail: file.id, size: thumb.length };
        };`,
      language: 'js',
      triggers: [{ type: 'storage', bucket: 'uploads', events: ['upload'] }],
    });
    await http
      .post('/v1/storage/buckets/uploads/files')
      .set(svc)
      .field('key', 'photos/cat.txt')
      .attach('file', Buffer.from('0123456789abcdef'), { filename: 'cat.txt', contentType: 'text/plain' })
      .expect(201);
    let thumbs: { key: string; size: number; id: string }[] = [];
    await expect
      .poll(
        async () => {
          thumbs = (await http.get('/v1/storage/buckets/thumbnails/files').set(svc).expect(200)).body.items;
          return thumbs.length;
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    expect(thumbs[0]).toMatchObject({ key: 'thumbs/photos/cat.txt', size: 8 });
    const content = await http.get(`/v1/storage/files/${thumbs[0]!.id}/content`).set(svc).expect(200);
    expect(content.text).toBe('01234567');
  });

  it('auth: a signup runs the function, which queues a welcome email', async () => {
    await deploy(stack, 'welcome', {
      source: `
        export default async (event, ctx) => {
          await ctx.email.send({ to: event.user.email, subject: 'Welcome!', text: 'Hello ' + event.user.email });
        };`,
      language: 'js',
      triggers: [{ type: 'auth', events: ['signup'] }],
    });
    const email = `welcome-${Date.now()}@example.test`;
    await http.post('/v1/auth/signup').send({ email, password: 'correct horse battery staple' }).expect(201);
    // The platform's own verification email goes to the same address; the function's is the other one.
    const welcome = async () =>
      ((await http.get('/v1/email/messages').set(svc).query({ to: email }).expect(200)).body.items as { subject: string }[]).filter(
        (m) => m.subject === 'Welcome!',
      );
    await expect.poll(async () => (await welcome()).length, { timeout: 15_000 }).toBe(1);
    expect((await welcome())[0]).toMatchObject({ to: [email], subject: 'Welcome!' });
  });

  it('schedule: a cleanup function runs on its schedule and deletes expired documents', async () => {
    const expired = [];
    for (let i = 0; i < 3; i++) expired.push((await http.post('/v1/collections/sessions_tmp/documents').send({ expired: true }).expect(201)).body.id);
    const kept = (await http.post('/v1/collections/sessions_tmp/documents').send({ expired: false }).expect(201)).body.id;
    await deploy(stack, 'cleanup', {
      source: `
        export default async (event, ctx) => {
          const sessions = ctx.db.collection('sessions_tmp');
          const { items } = await sessions.list({ filter: { expired: true }, limit: 100 });
          for (const doc of items) await sessions.delete(doc.id);
          return { deleted: items.length, at: event.scheduledAt };
        };`,
      language: 'js',
      triggers: [{ type: 'schedule', cron: '* * * * * *' }],
    });
    await expect.poll(async () => (await list('sessions_tmp')).map((d) => d.id), { timeout: 15_000 }).toEqual([kept]);
    const runs = await runsOf(stack, 'cleanup');
    expect(runs.some((r) => r.trigger === 'schedule')).toBe(true);
    await http.delete('/v1/functions/cleanup').set(svc).expect(204);
  });

  it('ctx errors reach the function as exceptions with the api’s code', async () => {
    await deploy(stack, 'bad-write', {
      source: `
        export default async (event, ctx) => {
          try { await ctx.db.collection('posts').create({ nope: 1 }); return 'created?'; }
          catch (e) { return { code: e.code, status: e.status }; }
        };`,
      language: 'js',
    });
    const res = await http.post('/v1/functions/bad-write/invoke').send({}).expect(200);
    expect(res.body.result).toMatchObject({ status: 400 });
  });
});
