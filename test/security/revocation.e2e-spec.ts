import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, uniqueName } from '../collections/support.js';

const service = { 'x-api-key': SERVICE_KEY };

/**
 * Issue 11, finding 1 and its class: what a token may do is decided by the live session and
 * user on every request (revoked, disabled, deleted, roles), on every route and replica,
 * and a key never outlives the power of the admin (or key) that created it.
 */
describe('revoked powers end at once (issue 11, finding 1)', () => {
  // A long cache period: the replica tests below pass only through the Redis invalidation.
  const config = testConfig({ AUTH_SESSION_CACHE_MS: '60000' });
  let app: NestFastifyApplication;
  let replica: NestFastifyApplication;
  let admin: TestUser;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startApi(config);
    replica = await startApi(config);
    admin = await createUser(app, { roles: ['admin'] });
  });
  afterAll(async () => {
    await replica.close();
    await app.close();
  });

  it('the exact sequence of the issue: demoted, disabled and logged-out admin gets nothing with the old token', async () => {
    const target = await createUser(app, { roles: ['admin'] });
    const T = bearer(target);
    await http().get('/v1/admin/users').set(T).expect(200);
    const early = await http().post('/v1/admin/api-keys').set(T).send({ name: 'made while admin' }).expect(201);
    await http().get('/v1/admin/api-keys').set('x-api-key', early.body.key).expect(200);

    await http().patch(`/v1/admin/users/${target.id}`).set(bearer(admin)).send({ roles: [] }).expect(200);
    await http().patch(`/v1/admin/users/${target.id}`).set(bearer(admin)).send({ disabled: true }).expect(200);

    await http().get('/v1/auth/me').set(T).expect(401);
    const list = await http().get('/v1/admin/users').set(T).expect(401);
    expect(list.body.code).toBe('SESSION_REVOKED');
    await http().post('/v1/admin/api-keys').set(T).send({ name: 'after' }).expect(401);
    await http().patch(`/v1/admin/users/${target.id}`).set(T).send({ roles: ['admin'], disabled: false }).expect(401);
    // The key made while T was an admin's token died with the admin's power.
    const keyUse = await http().get('/v1/admin/api-keys').set('x-api-key', early.body.key).expect(401);
    expect(keyUse.body.code).toBe('INVALID_API_KEY');
    const row = await http().get(`/v1/admin/users/${target.id}`).set(service).expect(200);
    expect(row.body).toMatchObject({ roles: [], disabled: true });
  });

  it('a removed role ends admin power at once on every privileged route, while the session stays', async () => {
    const target = await createUser(app, { roles: ['admin'] });
    const T = bearer(target);
    const bucket = `rv-${randomUUID().slice(0, 8)}`;
    const privileged = () => [
      http().get('/v1/admin/users').set(T),
      http().post('/v1/collections').set(T).send({ name: uniqueName('rv'), fields: [{ name: 'a', type: 'string' }], rules: {} }),
      http().put(`/v1/functions/rv-${randomUUID().slice(0, 8)}`).set(T).send({ source: 'export default () => 1', triggers: [{ type: 'http' }] }),
      http().post('/v1/email/send').set(T).send({ to: 'someone@example.test', subject: 's', text: 't' }),
      http().post('/v1/storage/buckets').set(T).send({ name: bucket }),
      http().get('/v1/email/messages').set(T),
      http().get('/v1/functions').set(T),
    ];
    for (const req of privileged()) expect((await req).status).toBeLessThan(300);
    await http().patch(`/v1/admin/users/${target.id}`).set(bearer(admin)).send({ roles: ['editor'] }).expect(200);
    for (const [i, req] of privileged().entries()) expect((await req).status, `privileged route ${i}`).toBe(403);
    // Still signed in, with the live roles.
    const me = await http().get('/v1/auth/me').set(T).expect(200);
    expect(me.body.roles).toEqual(['editor']);
    // And a granted role applies at once too: the token's claims are not the authority.
    await http().patch(`/v1/admin/users/${target.id}`).set(bearer(admin)).send({ roles: ['admin'] }).expect(200);
    await http().get('/v1/admin/users').set(T).expect(200);
  });

  it('a disabled user can no longer write (or read) documents with a still-unexpired token', async () => {
    const name = await defineCollection(app, {
      name: uniqueName('rv_docs'),
      fields: [{ name: 'title', type: 'string' }],
      rules: { list: 'authenticated', read: 'authenticated', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const user = await createUser(app);
    const doc = await http().post(`/v1/collections/${name}/documents`).set(bearer(user)).send({ title: 'before' }).expect(201);
    await http().patch(`/v1/admin/users/${user.id}`).set(service).send({ disabled: true }).expect(200);
    for (const res of [
      await http().post(`/v1/collections/${name}/documents`).set(bearer(user)).send({ title: 'after' }),
      await http().patch(`/v1/collections/${name}/documents/${doc.body.id}`).set(bearer(user)).send({ title: 'after' }),
      await http().delete(`/v1/collections/${name}/documents/${doc.body.id}`).set(bearer(user)),
      await http().post('/v1/batch').set(bearer(user)).send({ operations: [{ op: 'create', collection: name, data: { title: 'b' } }] }),
      await http().get(`/v1/collections/${name}/documents`).set(bearer(user)),
      await http().post(`/v1/storage/buckets/nope/files`).set(bearer(user)),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('SESSION_REVOKED');
    }
    const list = await http().get(`/v1/collections/${name}/documents`).set(service).expect(200);
    expect(list.body.items.map((d: { title: string }) => d.title)).toEqual(['before']);
  });

  it('logout, session revoke, password change and user deletion end access tokens on the next request', async () => {
    const a = await createUser(app);
    await http().post('/v1/auth/logout').set(bearer(a)).expect(204);
    await http().get('/v1/auth/sessions').set(bearer(a)).expect(401);

    const b = await createUser(app);
    const other = await http().post('/v1/auth/login').send({ email: b.email, password: b.password }).expect(200);
    await http().patch('/v1/auth/me').set(bearer(b)).send({ currentPassword: b.password, password: 'another long password' }).expect(200);
    await http().get('/v1/auth/sessions').set(bearer(other.body)).expect(401);
    await http().get('/v1/auth/sessions').set(bearer(b)).expect(200);

    const c = await createUser(app);
    await http().delete(`/v1/admin/users/${c.id}`).set(service).expect(204);
    const gone = await http().get('/v1/functions').set(bearer(c)).expect(401);
    expect(gone.body.code).toBe('SESSION_REVOKED');
  });

  it('every replica drops a revoked session within seconds, though it had cached it (Redis invalidation)', async () => {
    const user = await createUser(app, { roles: ['admin'] });
    const onReplica = () => request(replica.getHttpServer()).get('/v1/admin/users').set(bearer(user));
    await onReplica().expect(200); // now cached on the replica for 60 s
    await http().patch(`/v1/admin/users/${user.id}`).set(service).send({ roles: [] }).expect(200);
    await expect.poll(async () => (await onReplica()).status, { timeout: 5000, interval: 50 }).toBe(403);
    await http().post('/v1/auth/logout-all').set(bearer(user)).expect(200);
    await expect.poll(async () => (await onReplica()).status, { timeout: 5000, interval: 50 }).toBe(401);
  });

  it('keys work only while every creator up their chain may: demoted admin, revoked parent key', async () => {
    const creator = await createUser(app, { roles: ['admin'] });
    const k1 = await http().post('/v1/admin/api-keys').set(bearer(creator)).send({ name: 'k1' }).expect(201);
    const k2 = await http().post('/v1/admin/api-keys').set('x-api-key', k1.body.key).send({ name: 'k2 by k1' }).expect(201);
    const root = await http().post('/v1/admin/api-keys').set(service).send({ name: 'by bootstrap' }).expect(201);
    const k3 = await http().post('/v1/admin/api-keys').set('x-api-key', root.body.key).send({ name: 'k3 by root' }).expect(201);
    for (const k of [k1, k2, root, k3]) await http().get('/v1/functions').set('x-api-key', k.body.key).expect(200);
    expect(k1.body.createdBy).toBe(`user:${creator.id}`);
    expect(k2.body.createdBy).toBe(`service:${k1.body.id}`);

    // The creator logs out everywhere: keys are tied to their power, not their session.
    await http().post('/v1/auth/logout-all').set(bearer(creator)).expect(200);
    await http().get('/v1/functions').set('x-api-key', k2.body.key).expect(200);

    // Demoted: k1 and the key k1 made stop; keys of other chains keep working.
    await http().patch(`/v1/admin/users/${creator.id}`).set(service).send({ roles: [] }).expect(200);
    await http().get('/v1/functions').set('x-api-key', k1.body.key).expect(401);
    await http().get('/v1/functions').set('x-api-key', k2.body.key).expect(401);
    await http().get('/v1/functions').set('x-api-key', k3.body.key).expect(200);
    // Made admin again: the keys work again (nothing was revoked, they follow the live power).
    await http().patch(`/v1/admin/users/${creator.id}`).set(service).send({ roles: ['admin'] }).expect(200);
    await http().get('/v1/functions').set('x-api-key', k2.body.key).expect(200);

    // Revoking a key ends the keys it made.
    await http().delete(`/v1/admin/api-keys/${root.body.id}`).set(service).expect(204);
    await http().get('/v1/functions').set('x-api-key', k3.body.key).expect(401);
    // Deleting the creator ends theirs.
    await http().delete(`/v1/admin/users/${creator.id}`).set(service).expect(204);
    await http().get('/v1/functions').set('x-api-key', k1.body.key).expect(401);
  });
});
