import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createUser, TEST_PASSWORD } from '../support/users.js';
import { deploy, type Stack, startStack, svc } from './support.js';

/** ctx.auth (users) and ctx.db's list and get options, from inside a function, end to end. */
describe('functions: ctx.auth and ctx.db options', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    stack = await startStack();
    http = request(stack.api.getHttpServer());
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** Deploys `body` (the handler's body, with `event` and `ctx`) as a function and runs it with `payload`. */
  const runIt = async (name: string, body: string, payload: unknown = {}) => {
    await deploy(stack, name, { source: `export default async (event, ctx) => { ${body} }`, language: 'js' });
    const res = await http.post(`/v1/functions/${name}/invoke`).set(svc).send(payload as object).expect(200);
    return res.body as { status: string; result?: unknown; error?: { code: string; message: string } };
  };

  it('ctx.auth looks up, creates, updates and disables users', async () => {
    const ada = await createUser(stack.api, { email: `ada-${Date.now()}@example.test` });
    const found = await runIt(
      'auth-look',
      `const byId = await ctx.auth.get(event.payload.id);
       const byEmail = await ctx.auth.findByEmail(event.payload.email.toUpperCase());
       const missing = await ctx.auth.get('00000000-0000-4000-8000-000000000000');
       const nobody = await ctx.auth.findByEmail('nobody@example.test');
       return { byId: byId.email, byEmail: byEmail.id, missing, nobody, hasHash: 'passwordHash' in byId };`,
      { id: ada.id, email: ada.email },
    );
    expect(found).toMatchObject({ status: 'succeeded', result: { byId: ada.email, byEmail: ada.id, missing: null, nobody: null, hasHash: false } });

    const email = `made-${Date.now()}@example.test`;
    const made = await runIt(
      'auth-make',
      `const user = await ctx.auth.create({ email: event.payload.email, password: event.payload.password, roles: ['editor'], emailVerified: true });
       let taken;
       try { await ctx.auth.create({ email: event.payload.email }); } catch (e) { taken = { code: e.code, status: e.status }; }
       let invalid;
       try { await ctx.auth.create({ email: 'not an email' }); } catch (e) { invalid = { code: e.code, status: e.status }; }
       const updated = await ctx.auth.update(user.id, { roles: ['editor', 'reviewer'] });
       return { id: user.id, roles: user.roles, verified: user.emailVerified, taken, invalid, updatedRoles: updated.roles };`,
      { email, password: TEST_PASSWORD },
    );
    expect(made).toMatchObject({
      status: 'succeeded',
      result: {
        roles: ['editor'],
        verified: true,
        taken: { code: 'EMAIL_TAKEN', status: 409 },
        invalid: { code: 'VALIDATION_FAILED', status: 400 },
        updatedRoles: ['editor', 'reviewer'],
      },
    });
    // The created user signs in with the password, and carries the roles the function gave.
    const login = await http.post('/v1/auth/login').send({ email, password: TEST_PASSWORD }).expect(200);
    expect(login.body.user.roles).toEqual(['editor', 'reviewer']);

    const disabled = await runIt('auth-disable', 'return (await ctx.auth.disable(event.payload.id)).disabled;', { id: (made.result as { id: string }).id });
    expect(disabled.result).toBe(true);
    await http.get('/v1/auth/me').set(bearer(login.body as { accessToken: string })).expect(401);
    await http.post('/v1/auth/login').send({ email, password: TEST_PASSWORD }).expect(403); // disabled
  });

  it('POST /v1/admin/users creates a user for admins only, and refuses bad input with 4xx', async () => {
    const email = `admin-made-${Date.now()}@example.test`;
    const res = await http.post('/v1/admin/users').set(svc).send({ email }).expect(201);
    expect(res.body).toMatchObject({ email, roles: [], emailVerified: false, disabled: false });
    expect((await http.post('/v1/admin/users').set(svc).send({ email }).expect(409)).body.code).toBe('EMAIL_TAKEN');
    await http.post('/v1/admin/users').set(svc).send({ email: 'x@example.test', password: 'short' }).expect(400);
    await http.post('/v1/admin/users').set(svc).send({ email: 'y@example.test', roles: ['Not A Role'] }).expect(400);
    await http.post('/v1/admin/users').set(svc).send({ email: 'z@example.test', admin: true }).expect(400);
    const user = await createUser(stack.api);
    await http.post('/v1/admin/users').set(bearer(user)).send({ email: 'w@example.test' }).expect(403);
    await http.post('/v1/admin/users').send({ email: 'w@example.test' }).expect(401);
  });

  it('ctx.db lists with filter, sort, paging, count, fields and expand, as the REST api does', async () => {
    await http
      .post('/v1/collections')
      .set(svc)
      .send({ name: 'authors', fields: [{ name: 'name', type: 'string' }], rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' } })
      .expect(201);
    await http
      .post('/v1/collections')
      .set(svc)
      .send({
        name: 'books',
        fields: [
          { name: 'title', type: 'string' },
          { name: 'n', type: 'integer' },
          { name: 'author', type: 'reference', collection: 'authors' },
        ],
        rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
      })
      .expect(201);
    const out = await runIt(
      'db-options',
      `const authors = ctx.db.collection('authors'), books = ctx.db.collection('books');
       const a = await authors.create({ name: 'Ursula' });
       for (let n = 1; n <= 5; n++) await books.create({ title: 'Book ' + n, n, author: a.id });
       const first = await books.list({ filter: { n: { $gte: 2 } }, sort: '-n', limit: 2, count: true, fields: ['title', 'n'] });
       const second = await books.list({ filter: { n: { $gte: 2 } }, sort: '-n', limit: 2, cursor: first.nextCursor });
       const expanded = await books.list({ filter: { n: 1 }, expand: ['author'] });
       const one = await books.get(expanded.items[0].id, { expand: 'author', fields: 'title,author' });
       let unknown;
       try { await books.list({ filtr: { n: 1 } }); } catch (e) { unknown = { code: e.code, message: e.message }; }
       let badFilter;
       try { await books.list({ filter: { $nope: 1 } }); } catch (e) { badFilter = { code: e.code, status: e.status }; }
       return { first: first.items.map((b) => [b.n, b.title, 'author' in b]), count: first.count, second: second.items.map((b) => b.n),
                expandedAuthor: expanded.items[0].author.name, oneAuthor: one.author.name, oneHasN: 'n' in one, unknown, badFilter };`,
    );
    expect(out).toMatchObject({
      status: 'succeeded',
      result: {
        first: [
          [5, 'Book 5', false],
          [4, 'Book 4', false],
        ],
        count: 4,
        second: [3, 2],
        expandedAuthor: 'Ursula',
        oneAuthor: 'Ursula',
        oneHasN: false,
        unknown: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('filtr') },
        badFilter: { code: expect.any(String), status: 400 },
      },
    });
  });
});
