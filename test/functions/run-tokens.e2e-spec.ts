import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintRunToken, runTokenSecret } from '#libs/functions';
import { createWorker } from '../../apps/worker/src/worker.factory.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { deploy, type Stack, startStack, svc, waitForRun } from './support.js';

/**
 * Run tokens: ctx calls carry a short-lived token of their run instead of the service key
 * (the worker here has no service key at all), which opens only the routes ctx uses, and
 * with runAs "caller" acts as the user who invoked the run, so collection rules apply.
 */
describe('functions: run tokens instead of the service key', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    stack = await startStack({}, 0);
    // A worker without SERVICE_API_KEY: every ctx call below works with run tokens alone.
    stack.workers.push(await createWorker({ ...stack.config, API_INTERNAL_URL: stack.apiUrl, WORKER_HEALTH_PORT: 0, SERVICE_API_KEY: undefined }));
    http = request(stack.api.getHttpServer());
    [alice, bob] = await Promise.all([createUser(stack.api), createUser(stack.api)]);
    await http
      .post('/v1/collections')
      .set(svc)
      .send({
        name: 'notes',
        fields: [{ name: 'text', type: 'string' }],
        rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
      })
      .expect(201);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('acts as the function by default: its writes carry the function as actor', async () => {
    await deploy(stack, 'note-actor', {
      source: 'export default (event) => ({ actor: event.actor, owner: event.after.ownerId })',
      language: 'js',
      triggers: [{ type: 'db', collection: 'notes', events: ['create'] }],
    });
    await deploy(stack, 'as-function', {
      source: "export default async (event, ctx) => (await ctx.db.collection('notes').create({ text: 'by the function' })).id",
      language: 'js',
      triggers: [{ type: 'http', access: 'public' }],
    });
    const fnId = (await stack.db.query<{ id: string }>("SELECT id FROM functions WHERE name = 'as-function'")).rows[0]!.id;
    const res = await http.post('/v1/functions/as-function/invoke').set(bearer(alice)).send({}).expect(200);
    expect(res.body.status).toBe('succeeded');
    const docId = res.body.result as string;
    await expect
      .poll(async () => (await stack.db.query<{ n: number }>("SELECT count(*)::int AS n FROM function_runs r JOIN functions f ON f.id = r.function_id WHERE f.name = 'note-actor' AND r.status = 'succeeded'")).rows[0]!.n, { timeout: 15_000 })
      .toBeGreaterThan(0);
    const { rows } = await stack.db.query<{ id: string }>(
      "SELECT r.id FROM function_runs r JOIN functions f ON f.id = r.function_id WHERE f.name = 'note-actor' AND r.event->>'documentId' = $1",
      [docId],
    );
    const run = await waitForRun(stack, rows[0]!.id);
    expect(run.result).toEqual({ actor: { type: 'service', keyId: `function:${fnId}` }, owner: null });
  });

  it('with runAs "caller", acts as the user who invoked it: their rules apply, anonymous callers get none', async () => {
    await deploy(stack, 'as-caller', {
      source: `export default async (event, ctx) => {
        const notes = ctx.db.collection('notes');
        try {
          const note = await notes.create({ text: event.payload.text });
          const mine = await notes.list({ limit: 100 });
          return { owner: note.ownerId, seen: mine.items.map((n) => n.text).sort() };
        } catch (e) { return { code: e.code, status: e.status }; }
      }`,
      language: 'js',
      triggers: [{ type: 'http', access: 'public', runAs: 'caller' }],
    });
    const a = await http.post('/v1/functions/as-caller/invoke').set(bearer(alice)).send({ text: 'alice 1' }).expect(200);
    expect(a.body.result).toEqual({ owner: alice.id, seen: ['alice 1'] });
    const b = await http.post('/v1/functions/as-caller/invoke').set(bearer(bob)).send({ text: 'bob 1' }).expect(200);
    expect(b.body.result).toEqual({ owner: bob.id, seen: ['bob 1'] }); // alice's note is not bob's to read
    const anon = await http.post('/v1/functions/as-caller/invoke').send({ text: 'anonymous' }).expect(200);
    expect(anon.body.result).toEqual({ code: 'UNAUTHENTICATED', status: 401 });
    // A service key invoking it is not a user: the function acts as itself.
    const service = await http.post('/v1/functions/as-caller/invoke').set(svc).send({ text: 'service' }).expect(200);
    expect(service.body.result).toMatchObject({ owner: null });
    // Acting as a caller lasts as long as their session: a token for a signed-out session is refused.
    const sid = (JSON.parse(Buffer.from(alice.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
    const asAlice = mintRunToken(runTokenSecret(stack.config), { run: 'r', fn: 'f', exp: Date.now() + 60_000, as: { userId: alice.id, sessionId: sid } });
    const list = await http.get('/v1/collections/notes/documents').set('x-run-token', asAlice).expect(200);
    expect(list.body.items.map((n: { text: string }) => n.text)).toEqual(['alice 1']);
    await http.post('/v1/auth/logout').set(bearer(alice)).send({ refreshToken: alice.refreshToken }).expect(204);
    await http.get('/v1/collections/notes/documents').set('x-run-token', asAlice).expect(401);
  });

  it('opens only the routes ctx uses, and only until it expires', async () => {
    const secret = runTokenSecret(stack.config);
    const token = mintRunToken(secret, { run: crypto.randomUUID(), fn: crypto.randomUUID(), exp: Date.now() + 60_000 });
    const withToken = (req: request.Test) => req.set('x-run-token', token);
    await withToken(http.get('/v1/collections/notes/documents')).expect(200);
    await withToken(http.post('/v1/email/send')).send({ to: 'a@example.test', subject: 's', text: 't' }).expect(202);
    await withToken(http.get('/v1/admin/users')).expect(200);
    for (const [method, path] of [
      ['put', '/v1/functions/evil'],
      ['get', '/v1/functions'],
      ['get', '/v1/functions/runs'],
      ['post', '/v1/collections'],
      ['patch', '/v1/collections/notes'],
      ['post', '/v1/admin/api-keys'],
      ['get', '/v1/admin/overview'],
    ] as const) {
      const res = await withToken(http[method](path)).send({});
      expect([method, path, res.status, res.body.code]).toEqual([method, path, 403, 'FORBIDDEN']);
    }
    const expired = mintRunToken(secret, { run: 'r', fn: 'f', exp: Date.now() - 1 });
    expect((await http.get('/v1/collections/notes/documents').set('x-run-token', expired).expect(401)).body.code).toBe('INVALID_TOKEN');
    const forged = mintRunToken('another-secret-of-at-least-32-characters-xx', { run: 'r', fn: 'f', exp: Date.now() + 60_000 });
    await http.get('/v1/collections/notes/documents').set('x-run-token', forged).expect(401);
    await http.get('/v1/collections/notes/documents').set('x-run-token', 'nonsense').expect(401);
  });
});
