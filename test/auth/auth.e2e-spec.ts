import { createHmac, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaService } from '#libs/database';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { subscribe } from '../support/subscribers.js';
import { bearer, createUser, TEST_PASSWORD } from '../support/users.js';

// Replays are refused at once here; the grace window for concurrent refreshes is tested in account-lifecycle.e2e-spec.ts.
const config = testConfig({ AUTH_REFRESH_REUSE_GRACE_SECONDS: '0' });
const UUID = /^[0-9a-f-]{36}$/;

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A JWT signed by hand, to try what the api must refuse. */
function forgeJwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret = config.JWT_SECRET): string {
  const body = `${b64url(header)}.${b64url(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('auth', () => {
  let app: NestFastifyApplication;
  let prisma: PrismaService;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startApi(config);
    prisma = app.get(PrismaService);
  });
  afterAll(async () => {
    await app.close();
  });

  describe('signup and login', () => {
    it('signs up with a normalised email and answers user + tokens, never a hash', async () => {
      const email = `  New.User-${randomUUID()}@Example.TEST `;
      const res = await http().post('/v1/auth/signup').send({ email, password: TEST_PASSWORD }).expect(201);
      expect(res.body).toEqual({
        user: {
          id: expect.stringMatching(UUID),
          email: email.trim().toLowerCase(),
          emailVerified: false,
          roles: [],
          isAnonymous: false,
          displayName: null,
          userMetadata: {},
          appMetadata: {},
          createdAt: expect.any(String),
        },
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^rt_/),
        expiresIn: config.JWT_ACCESS_TTL_SECONDS,
      });
      expect(res.text).not.toMatch(/argon2|passwordHash/);
      const row = await prisma.user.findUniqueOrThrow({ where: { id: res.body.user.id } });
      expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

      const me = await http().get('/v1/auth/me').set(bearer(res.body)).expect(200);
      expect(me.body.email).toBe(email.trim().toLowerCase());
    });

    it('writes the signup to the outbox (a function subscribes) and the audit log in the same transaction', async () => {
      await subscribe(app, { type: 'auth', events: ['signup'] });
      const user = await createUser(app);
      const events = await prisma.outboxEvent.findMany({ where: { type: 'auth.signup' } });
      expect(events.map((e) => (e.payload as { user: { id: string } }).user.id)).toContain(user.id);
      const audit = await prisma.auditLog.findMany({ where: { userId: user.id, event: 'signup' } });
      expect(audit).toHaveLength(1);
    });

    it('rejects a weak password, a bad email and a taken email', async () => {
      const weak = await http().post('/v1/auth/signup').send({ email: `w-${randomUUID()}@example.test`, password: 'short' }).expect(400);
      expect(weak.body.details[0].path).toBe('password');
      await http().post('/v1/auth/signup').send({ email: 'not-an-email', password: TEST_PASSWORD }).expect(400);
      const user = await createUser(app);
      const taken = await http().post('/v1/auth/signup').send({ email: user.email.toUpperCase(), password: TEST_PASSWORD }).expect(409);
      expect(taken.body.code).toBe('EMAIL_TAKEN');
    });

    it('answers a failed login identically for an unknown email and a wrong password, and audits it', async () => {
      const user = await createUser(app);
      const wrong = await http().post('/v1/auth/login').send({ email: user.email, password: 'wrong password!' }).expect(401);
      const unknown = await http().post('/v1/auth/login').send({ email: `nobody-${randomUUID()}@example.test`, password: 'wrong password!' }).expect(401);
      const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
      expect(strip(wrong.body)).toEqual(strip(unknown.body));
      expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
      expect(await prisma.auditLog.count({ where: { userId: user.id, event: 'login.failed' } })).toBe(1);
    });

    it('refuses tokens and ids that are not strings of the expected shape', async () => {
      for (const token of [{ $ne: null }, ['a'], 12345, 'short']) {
        const res = await http().post('/v1/auth/verify-email').send({ token }).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      await http().post('/v1/auth/refresh').send({ refreshToken: { $gt: '' } }).expect(400);
      await http().post('/v1/auth/login').send({ email: { $ne: null }, password: TEST_PASSWORD }).expect(400);
      const user = await createUser(app);
      await http().delete('/v1/auth/sessions/not-a-uuid').set(bearer(user)).expect(400);
    });
  });

  describe('access tokens', () => {
    it('refuses alg none, a wrong signature, a wrong audience, a wrong issuer and an expired token', async () => {
      const user = await createUser(app, { roles: ['admin'] });
      const sid = (JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: user.id, sid, email: user.email, roles: ['admin'], iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE, iat: now, exp: now + 600 };
      const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
      const tokens = {
        none,
        wrongSignature: forgeJwt({ alg: 'HS256', typ: 'JWT' }, claims, 'another-secret-another-secret-another-secret'),
        wrongAudience: forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'someone-else' }),
        wrongIssuer: forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'evil' }),
        expired: forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now - 7200, exp: now - 3600 }),
        hs512: forgeJwt({ alg: 'HS512', typ: 'JWT' }, claims),
      };
      for (const [name, token] of Object.entries(tokens)) {
        const res = await http().get('/v1/admin/users').set('Authorization', `Bearer ${token}`);
        expect(res.status, name).toBe(401);
        expect(res.body.code, name).toBe('INVALID_TOKEN');
      }
      // The same claims, correctly signed, are accepted: the refusals above are about the token.
      const good = forgeJwt({ alg: 'HS256', typ: 'JWT' }, claims);
      await http().get('/v1/admin/users').set('Authorization', `Bearer ${good}`).expect(200);
      // Correctly signed but naming no live session: refused too (the session is checked on every request).
      const noSession = forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, sid: randomUUID() });
      const res = await http().get('/v1/admin/users').set('Authorization', `Bearer ${noSession}`).expect(401);
      expect(res.body.code).toBe('SESSION_REVOKED');
    });

    it('requires a user for user routes and an admin for admin routes', async () => {
      await http().get('/v1/auth/me').expect(401);
      const user = await createUser(app);
      const denied = await http().get('/v1/admin/users').set(bearer(user)).expect(403);
      expect(denied.body.code).toBe('FORBIDDEN');
      const admin = await createUser(app, { roles: ['admin'] });
      await http().get('/v1/admin/users').set(bearer(admin)).expect(200);
    });
  });

  describe('sessions and refresh', () => {
    it('rotates the refresh token; reusing an old one revokes the whole session', async () => {
      const user = await createUser(app);
      const first = await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      expect(first.body.refreshToken).not.toBe(user.refreshToken);
      const second = await http().post('/v1/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(200);

      // The first token again: a replay. It fails, and so does the newest token of the family.
      const replay = await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      expect(replay.body.code).toBe('INVALID_REFRESH_TOKEN');
      await http().post('/v1/auth/refresh').send({ refreshToken: second.body.refreshToken }).expect(401);
      await http().get('/v1/auth/me').set(bearer(second.body)).expect(401);
    });

    it('logout revokes the current session at once; other sessions keep working', async () => {
      const user = await createUser(app);
      const other = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
      const list = await http().get('/v1/auth/sessions').set(bearer(user)).expect(200);
      expect(list.body.items).toHaveLength(2);
      expect(list.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);

      await http().post('/v1/auth/logout').set(bearer(user)).expect(204);
      const me = await http().get('/v1/auth/me').set(bearer(user)).expect(401);
      expect(me.body.code).toBe('SESSION_REVOKED');
      await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      await http().get('/v1/auth/me').set(bearer(other.body)).expect(200);
    });

    it('revokes one session by id and all sessions with logout-all', async () => {
      const user = await createUser(app);
      const second = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
      const third = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
      const secondId = (JSON.parse(Buffer.from((second.body.accessToken as string).split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
      await http().delete(`/v1/auth/sessions/${secondId}`).set(bearer(user)).expect(204);
      // The revoked session's access token stops working at once, on every route.
      await http().get('/v1/auth/sessions').set(bearer(second.body)).expect(401);
      await http().delete(`/v1/auth/sessions/${secondId}`).set(bearer(user)).expect(404);
      const someoneElse = await createUser(app);
      await http().delete(`/v1/auth/sessions/${secondId}`).set(bearer(someoneElse)).expect(404);

      const all = await http().post('/v1/auth/logout-all').set(bearer(third.body)).expect(200);
      expect(all.body.revoked).toBe(2);
      for (const tokens of [user, second.body, third.body]) await http().get('/v1/auth/me').set(bearer(tokens)).expect(401);
    });

    it('a disabled user cannot log in or refresh', async () => {
      const user = await createUser(app);
      await http().patch(`/v1/admin/users/${user.id}`).set('x-api-key', SERVICE_KEY).send({ disabled: true }).expect(200);
      const login = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(403);
      expect(login.body.code).toBe('ACCOUNT_DISABLED');
      await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      await http().get('/v1/auth/me').set(bearer(user)).expect(401);
      const audit = await prisma.auditLog.findMany({ where: { userId: user.id, event: 'user.disable' } });
      expect(audit).toHaveLength(1);
    });

    it('changing the password needs the current one and ends the other sessions', async () => {
      const user = await createUser(app);
      const other = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
      await http().patch('/v1/auth/me').set(bearer(user)).send({ currentPassword: 'nope nope', password: 'a new password 1' }).expect(401);
      await http().patch('/v1/auth/me').set(bearer(user)).send({ currentPassword: TEST_PASSWORD, password: 'a new password 1', roles: ['admin'] }).expect(400);
      await http().patch('/v1/auth/me').set(bearer(user)).send({ currentPassword: TEST_PASSWORD, password: 'a new password 1' }).expect(200);
      await http().get('/v1/auth/me').set(bearer(user)).expect(200);
      await http().get('/v1/auth/me').set(bearer(other.body)).expect(401);
      await http().post('/v1/auth/login').send({ email: user.email, password: 'a new password 1' }).expect(200);
    });
  });

  describe('admin', () => {
    it('changes roles (audited), searches and pages users, deletes a user', async () => {
      const tag = randomUUID().slice(0, 8);
      const users = await Promise.all([1, 2, 3].map((n) => createUser(app, { email: `page-${tag}-${n}@example.test` })));
      const page1 = await http().get(`/v1/admin/users?search=page-${tag}&limit=2`).set('x-api-key', SERVICE_KEY).expect(200);
      expect(page1.body.items).toHaveLength(2);
      expect(page1.body.nextCursor).toEqual(expect.any(String));
      const page2 = await http().get(`/v1/admin/users?search=page-${tag}&limit=2&cursor=${page1.body.nextCursor}`).set('x-api-key', SERVICE_KEY).expect(200);
      expect(page2.body.items).toHaveLength(1);
      expect(page2.body.nextCursor).toBeNull();
      const seen = [...page1.body.items, ...page2.body.items].map((u: { id: string }) => u.id).sort();
      expect(seen).toEqual(users.map((u) => u.id).sort());
      expect(JSON.stringify(page1.body)).not.toMatch(/passwordHash|argon2/);

      const target = users[0]!;
      const updated = await http().patch(`/v1/admin/users/${target.id}`).set('x-api-key', SERVICE_KEY).send({ roles: ['editor'] }).expect(200);
      expect(updated.body.roles).toEqual(['editor']);
      const audit = await prisma.auditLog.findFirstOrThrow({ where: { userId: target.id, event: 'role.change' } });
      expect(audit.data).toEqual({ before: [], after: ['editor'] });
      await http().patch(`/v1/admin/users/${target.id}`).set('x-api-key', SERVICE_KEY).send({ roles: ['Not A Role!'] }).expect(400);

      await http().delete(`/v1/admin/users/${target.id}`).set('x-api-key', SERVICE_KEY).expect(204);
      await http().get(`/v1/admin/users/${target.id}`).set('x-api-key', SERVICE_KEY).expect(404);
    });

    it('creates an API key shown once, stores only its hash, accepts it, and stops accepting it when revoked', async () => {
      const created = await http().post('/v1/admin/api-keys').set('x-api-key', SERVICE_KEY).send({ name: 'ci' }).expect(201);
      const key = created.body.key as string;
      expect(key).toMatch(/^sk_/);
      const row = await prisma.apiKey.findUniqueOrThrow({ where: { id: created.body.id } });
      expect(JSON.stringify(row)).not.toContain(key);

      await http().get('/v1/admin/users').set('x-api-key', key).expect(200);
      const list = await http().get('/v1/admin/api-keys').set('x-api-key', key).expect(200);
      expect(JSON.stringify(list.body)).not.toContain(key);
      expect(list.body.items.map((k: { id: string }) => k.id)).toContain(created.body.id);

      await http().delete(`/v1/admin/api-keys/${created.body.id}`).set('x-api-key', SERVICE_KEY).expect(204);
      const refused = await http().get('/v1/admin/users').set('x-api-key', key).expect(401);
      expect(refused.body.code).toBe('INVALID_API_KEY');
      await http().get('/v1/admin/users').set('x-api-key', 'sk_wrong').expect(401);
    });
  });
});
