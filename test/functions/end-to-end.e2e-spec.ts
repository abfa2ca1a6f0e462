import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaasClient, DeployFunctionInput } from '../../packages/sdk/src/index.js';
import { PASSWORD, sdkClients } from '../sdk/support.js';
import { insertOutbox, type Stack, startStack } from './support.js';

/**
 * Every trigger type through the real platform: documents written with the data API,
 * files uploaded to storage, a signup, a schedule, an HTTP call. Each function acts through
 * `ctx` (as the service role, via the api), and the test sees its effect through the api.
 * The functions are the examples of docs/functions.md. The test drives the platform the way
 * apps and servers do, through the SDK: `app` is an app's client (no key), `admin` one
 * with the service key; every answer is checked against docs/openapi.json.
 */
describe('functions: end to end through the data, storage, auth and email APIs', () => {
  let stack: Stack;
  let sdk: ReturnType<typeof sdkClients>;
  let admin: BaasClient;
  let app: BaasClient;
  let dir: string;

  const list = async (collection: string, filter?: Record<string, unknown>) => (await admin.collection(collection).list({ filter })).items;
  const deploy = (name: string, definition: DeployFunctionInput) => admin.admin.functions.deploy(name, definition);
  const runsOf = async (name: string) => (await admin.functions.runs(name)).items;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baas-fn-'));
    stack = await startStack({ STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: join(dir, 'storage'), MAIL_DIR: join(dir, 'mail') });
    sdk = sdkClients(stack.apiUrl);
    admin = sdk.service;
    app = sdk.app();
    const rules = { list: 'admin', read: 'admin', create: 'public', update: 'admin', delete: 'admin' };
    await admin.admin.collections.create({ name: 'posts', fields: [{ name: 'title', type: 'string', required: true }], rules });
    await admin.admin.collections.create({
      name: 'post_audit',
      fields: [
        { name: 'postId', type: 'string' },
        { name: 'title', type: 'string' },
        { name: 'eventId', type: 'string' },
      ],
      rules,
    });
    await admin.admin.collections.create({ name: 'sessions_tmp', fields: [{ name: 'expired', type: 'boolean' }], rules });
    for (const bucket of ['uploads', 'thumbnails']) await admin.admin.buckets.create({ name: bucket });
  });
  afterAll(async () => {
    sdk?.expectContractKept();
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('db: a document write runs the function, and the function’s own write is visible', async () => {
    await deploy('audit-posts', {
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
    const post = await app.collection<{ title: string }>('posts').create({ title: 'Hello functions' });
    await expect.poll(async () => (await list('post_audit', { postId: post.id })).length, { timeout: 15_000 }).toBe(1);
    const [audit] = await list('post_audit', { postId: post.id });
    expect(audit).toMatchObject({ title: 'Hello functions' });

    // The same event delivered twice (the relay publishes the outbox row again): still one effect.
    const [run] = await runsOf('audit-posts');
    await admin.functions.waitForRun(run!.id, { timeoutMs: 20_000 });
    const eventId = run!.eventId!;
    // The relay deleted the row it published; a crash before its commit would have kept it: put it back.
    const seen = run!.event as { collection: string; operation: string; documentId: string; before: unknown; after: unknown; actor: unknown };
    const { collection, operation, documentId, before, after, actor } = seen;
    await insertOutbox(stack, 'db.change', { collection, operation, documentId, before, after, actor }, eventId);
    await expect.poll(async () => (await stack.db.query('SELECT 1 FROM outbox_events WHERE id = $1', [eventId])).rowCount, { timeout: 10_000 }).toBe(0);
    expect(await runsOf('audit-posts')).toHaveLength(1);
    expect(await list('post_audit', { postId: post.id })).toHaveLength(1);
  });

  it('storage: an upload runs the function, which writes a derived file to another bucket', async () => {
    await deploy('thumbnail', {
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
    await admin.storage.from('uploads').upload(new Blob(['0123456789abcdef'], { type: 'text/plain' }), { key: 'photos/cat.txt', method: 'multipart' });
    let thumbs: { key: string; size: number; id: string }[] = [];
    await expect
      .poll(
        async () => {
          thumbs = (await admin.storage.from('thumbnails').list()).items;
          return thumbs.length;
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    expect(thumbs[0]).toMatchObject({ key: 'thumbs/photos/cat.txt', size: 8 });
    expect(await (await admin.storage.download(thumbs[0]!.id)).text()).toBe('01234567');
  });

  it('auth: a signup runs the function, which queues a welcome email', async () => {
    await deploy('welcome', {
      source: `
        export default async (event, ctx) => {
          await ctx.email.send({ to: event.user.email, subject: 'Welcome!', text: 'Hello ' + event.user.email });
        };`,
      language: 'js',
      triggers: [{ type: 'auth', events: ['signup'] }],
    });
    const email = `welcome-${Date.now()}@example.test`;
    await sdk.app().auth.signUp({ email, password: PASSWORD });
    // The platform's own verification email goes to the same address; the function's is the other one.
    const welcome = async () => (await admin.admin.email.messages({ to: email })).items.filter((m) => m.subject === 'Welcome!');
    await expect.poll(async () => (await welcome()).length, { timeout: 15_000 }).toBe(1);
    expect((await welcome())[0]).toMatchObject({ to: [email], subject: 'Welcome!' });
  });

  it('schedule: a cleanup function runs on its schedule and deletes expired documents', async () => {
    const expired = [];
    const sessions = app.collection<{ expired: boolean }>('sessions_tmp');
    for (let i = 0; i < 3; i++) expired.push((await sessions.create({ expired: true })).id);
    const kept = (await sessions.create({ expired: false })).id;
    await deploy('cleanup', {
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
    const runs = await runsOf('cleanup');
    expect(runs.some((r) => r.trigger === 'schedule')).toBe(true);
    await admin.admin.functions.delete('cleanup');
  });

  it('ctx errors reach the function as exceptions with the api’s code', async () => {
    await deploy('bad-write', {
      source: `
        export default async (event, ctx) => {
          try { await ctx.db.collection('posts').create({ nope: 1 }); return 'created?'; }
          catch (e) { return { code: e.code, status: e.status }; }
        };`,
      language: 'js',
      triggers: [{ type: 'http', access: 'public' }],
    });
    const res = await app.functions.invoke('bad-write', {});
    expect(res).toMatchObject({ status: 'succeeded', result: { status: 400 } });
  });
});
