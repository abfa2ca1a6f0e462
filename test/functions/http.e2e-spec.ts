import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createUser } from '../support/users.js';
import { deploy, runsOf, type Stack, startStack, svc, waitForRun } from './support.js';

const HELLO = `
interface Input { name?: string }
export default async (event: { type: string; payload: Input; user: { id: string } | null }, ctx: { log(...args: unknown[]): void }) => {
  ctx.log('hello called');
  return { hello: event.payload?.name ?? 'world', user: event.user?.id ?? null, type: event.type };
};`;

describe('functions: deploy and the http trigger', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    stack = await startStack();
    http = request(stack.api.getHttpServer());
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('deploys a TypeScript function and answers its return value synchronously', async () => {
    const deployed = await deploy(stack, 'hello', { source: HELLO, triggers: [{ type: 'http', access: 'public' }] });
    expect(deployed.status).toBe(201);
    expect(deployed.body).toMatchObject({ name: 'hello', version: 1, language: 'ts', triggers: [{ type: 'http', access: 'public' }] });

    const res = await http.post('/v1/functions/hello/invoke').send({ name: 'Ada' }).expect(200);
    expect(res.body).toMatchObject({ status: 'succeeded', result: { hello: 'Ada', user: null, type: 'http' } });
    expect(res.body.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof res.body.durationMs).toBe('number');

    const run = await waitForRun(stack, res.body.runId);
    expect(run).toMatchObject({ function: 'hello', version: 1, trigger: 'http', status: 'succeeded', attempts: 1 });
    expect(run.logs).toEqual([expect.objectContaining({ level: 'log', message: 'hello called' })]);
  });

  it("puts the caller's identity in the event", async () => {
    const user = await createUser(stack.api);
    const res = await http.post('/v1/functions/hello/invoke').set(bearer(user)).send({}).expect(200);
    expect(res.body.result).toEqual({ hello: 'world', user: user.id, type: 'http' });
  });

  it('runs asynchronously with ?async=true: 202 and a run id to poll', async () => {
    const res = await http.post('/v1/functions/hello/invoke?async=true').send({ name: 'later' }).expect(202);
    expect(res.body).toMatchObject({ status: 'queued' });
    const run = await waitForRun(stack, res.body.runId);
    expect(run).toMatchObject({ status: 'succeeded', result: { hello: 'later' } });
  });

  it('refuses a broken source with the compiler message and keeps the running version', async () => {
    const res = await http
      .put('/v1/functions/hello')
      .set(svc)
      .send({ source: 'export default async (event) => { return { a: 1 ', triggers: [{ type: 'http', access: 'public' }] })
      .expect(400);
    expect(res.body.code).toBe('COMPILE_FAILED');
    expect(res.body.details[0].message).toMatch(/Expected/);
    // V8's own check catches what the transpiler lets through.
    const dup = await http
      .put('/v1/functions/hello')
      .set(svc)
      .send({ source: 'export default () => { let a = 1; let a = 2; return a; }', language: 'js' })
      .expect(400);
    expect(dup.body.details[0].message).toMatch(/SyntaxError.*already been declared/);

    const still = await http.post('/v1/functions/hello/invoke').send({ name: 'v1' }).expect(200);
    expect(still.body.result.hello).toBe('v1');
    expect((await http.get('/v1/functions/hello').set(svc).expect(200)).body.version).toBe(1);
  });

  it('keeps every version, and a run records the version it ran', async () => {
    const v2 = await deploy(stack, 'hello', { source: 'export default () => ({ v: 2 })', language: 'js' });
    expect(v2.status).toBe(200);
    expect(v2.body.version).toBe(2);
    const res = await http.post('/v1/functions/hello/invoke').send({}).expect(200);
    expect(res.body.result).toEqual({ v: 2 });
    const run = await waitForRun(stack, res.body.runId);
    expect(run.version).toBe(2);
    const versions = await http.get('/v1/functions/hello/versions').set(svc).expect(200);
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect((await runsOf(stack, 'hello')).some((r) => r.version === 1)).toBe(true);
  });

  it('pages the function list in name order with an opaque cursor, and refuses a cursor it did not write', async () => {
    const source = 'export default () => 1';
    for (const name of ['page-c', 'page-a', 'page-b']) await deploy(stack, name, { source, language: 'js' });
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await http.get('/v1/functions').query({ limit: 2, ...(cursor ? { cursor } : {}) }).set(svc).expect(200);
      const page = res.body as { items: { name: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      names.push(...page.items.map((f) => f.name));
      cursor = page.nextCursor;
      if (cursor !== null) expect(cursor).not.toMatch(/^page-/);
      pages++;
    } while (cursor !== null && pages < 50);
    expect(cursor).toBeNull();
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c']));
    for (const bad of ['page-a', 'not a cursor', Buffer.from(JSON.stringify('Bad Name')).toString('base64url')]) {
      const res = await http.get('/v1/functions').query({ cursor: bad }).set(svc).expect(400);
      expect(res.body.code).toBe('INVALID_CURSOR');
    }
  });

  it('stores secrets encrypted, never returns them, and gives each function only its own', async () => {
    const source = 'export default (event, ctx) => ({ env: ctx.env })';
    await deploy(stack, 'with-secret', { source, language: 'js', secrets: { API_TOKEN: 'tok-123-secret' } });
    await deploy(stack, 'other-secret', { source, language: 'js', secrets: { OTHER: 'other-456' } });

    const view = await http.get('/v1/functions/with-secret').set(svc).expect(200);
    expect(view.body.secretNames).toEqual(['API_TOKEN']);
    expect(JSON.stringify(view.body)).not.toContain('tok-123-secret');
    const list = await http.get('/v1/functions').set(svc).expect(200);
    expect(JSON.stringify(list.body)).not.toContain('tok-123-secret');
    const { rows } = await stack.db.query<{ secrets: string }>("SELECT secrets FROM functions WHERE name = 'with-secret'");
    expect(rows[0]!.secrets).toMatch(/^v1\./);
    expect(rows[0]!.secrets).not.toContain('tok-123');

    const a = await http.post('/v1/functions/with-secret/invoke').set(svc).send({}).expect(200);
    expect(a.body.result).toEqual({ env: { API_TOKEN: 'tok-123-secret' } });
    const b = await http.post('/v1/functions/other-secret/invoke').set(svc).send({}).expect(200);
    expect(b.body.result).toEqual({ env: { OTHER: 'other-456' } });

    // Redeploying without `secrets` keeps them.
    await deploy(stack, 'with-secret', { source, language: 'js' });
    const c = await http.post('/v1/functions/with-secret/invoke').set(svc).send({}).expect(200);
    expect(c.body.result).toEqual({ env: { API_TOKEN: 'tok-123-secret' } });
  });

  it('only admins and the service role deploy; invoke honours the http trigger access', async () => {
    const user = await createUser(stack.api);
    await http.put('/v1/functions/nope').set(bearer(user)).send({ source: 'export default () => 1' }).expect(403);
    await http.put('/v1/functions/nope').send({ source: 'export default () => 1' }).expect(401);
    const admin = await createUser(stack.api, { roles: ['admin'] });
    const byAdmin = await http.put('/v1/functions/by-admin').set(bearer(admin)).send({ source: 'export default () => "admin made me"' }).expect(201);
    expect(byAdmin.body.version).toBe(1);
    // Deployed without triggers: an http trigger for signed-in callers (the default access).
    expect(byAdmin.body.triggers).toEqual([{ type: 'http' }]);
    await http.post('/v1/functions/by-admin/invoke').send({}).expect(401);
    expect((await http.post('/v1/functions/by-admin/invoke').set(bearer(user)).send({}).expect(200)).body.result).toBe('admin made me');
    const versions = await http.get('/v1/functions/by-admin/versions').set(bearer(admin)).expect(200);
    expect(versions.body.items[0].createdBy).toBe(`user:${admin.id}`);

    // `user`, the access name before `authenticated`, is still accepted and stored as the new name.
    const members = await deploy(stack, 'members-only', { source: 'export default () => 1', language: 'js', triggers: [{ type: 'http', access: 'user' }] });
    expect(members.body.triggers).toEqual([{ type: 'http', access: 'authenticated' }]);
    await http.post('/v1/functions/members-only/invoke').send({}).expect(401);
    await http.post('/v1/functions/members-only/invoke').set(bearer(user)).send({}).expect(200);

    // No http trigger: not invokable by users (answers as if missing), still by the service role.
    await deploy(stack, 'internal', { source: 'export default () => 2', language: 'js', triggers: [] });
    await http.post('/v1/functions/internal/invoke').set(bearer(user)).send({}).expect(404);
    expect((await http.post('/v1/functions/internal/invoke').set(svc).send({}).expect(200)).body.result).toBe(2);

    await http.post('/v1/functions/missing/invoke').send({}).expect(404);
  });

  it('validates deploy bodies and invoke payloads', async () => {
    const bad = await http
      .put('/v1/functions/bad')
      .set(svc)
      .send({ source: 'export default () => 1', triggers: [{ type: 'schedule', cron: '61 * * * *' }] })
      .expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    await http
      .put('/v1/functions/bad')
      .set(svc)
      .send({ source: 'export default () => 1', triggers: [{ type: 'schedule', cron: '* * * * *', timezone: 'Mars/Olympus' }] })
      .expect(400);
    await http.put('/v1/functions/Bad_Name!').set(svc).send({ source: 'x' }).expect(400);
    await http.put('/v1/functions/runs').set(svc).send({ source: 'export default () => 1' }).expect(400);
    await http
      .post('/v1/functions/hello/invoke')
      .set('content-type', 'application/json')
      .send('{"__proto__": {"polluted": true}}')
      .expect(400);
  });

  it('deletes a function with its runs', async () => {
    await deploy(stack, 'temp', { source: 'export default () => 1', language: 'js' });
    await http.post('/v1/functions/temp/invoke').set(svc).send({}).expect(200);
    await http.delete('/v1/functions/temp').set(svc).expect(204);
    await http.get('/v1/functions/temp').set(svc).expect(404);
    await http.delete('/v1/functions/temp').set(svc).expect(404);
  });
});
