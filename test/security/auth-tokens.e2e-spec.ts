import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BackgroundTasks } from '../../apps/api/src/common/background-tasks.js';
import { directPool } from '../collections/support.js';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { bearer, createUser, TEST_PASSWORD } from '../support/users.js';

const service = { 'x-api-key': SERVICE_KEY };

/** Every token mailed to `email` in links to `path`, newest first, read from the api's email log. */
async function linkTokens(app: NestFastifyApplication, email: string, path: string, atLeast: number): Promise<string[]> {
  await app.get(BackgroundTasks).idle();
  const http = () => request(app.getHttpServer());
  const list = await http().get('/v1/email/messages').query({ to: email, limit: 100 }).set(service).expect(200);
  const tokens: string[] = [];
  for (const item of list.body.items as { id: string }[]) {
    const message = await http().get(`/v1/email/messages/${item.id}`).set(service).expect(200);
    const match = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(message.body.text ?? '');
    if (match) tokens.push(match[1]!);
  }
  expect(tokens.length, `${path} links to ${email}`).toBeGreaterThanOrEqual(atLeast);
  return tokens;
}

// One api for the whole file.
let app: NestFastifyApplication;
const http = () => request(app.getHttpServer());
beforeAll(async () => {
  app = await startApi();
});
afterAll(async () => {
  await app.close();
});

describe('email-link tokens end with a reset, a password change or a disable (issue 11, finding 8)', () => {
  it('the exact sequence of the issue: magic link M1, resets R1 and R2; using R2 ends R1, M1 and the verification link', async () => {
    const user = await createUser(app);
    const [verify] = await linkTokens(app, user.email, '/auth/verify-email', 1);
    await http().post('/v1/auth/magic-link/request').send({ email: user.email }).expect(202);
    const [m1] = await linkTokens(app, user.email, '/auth/magic-link', 1);
    await http().post('/v1/auth/password-reset/request').send({ email: user.email }).expect(202);
    const [r1] = await linkTokens(app, user.email, '/auth/reset-password', 1);
    await http().post('/v1/auth/password-reset/request').send({ email: user.email }).expect(202);
    const [r2, r1again] = await linkTokens(app, user.email, '/auth/reset-password', 2);
    expect(r1again).toBe(r1);

    await http().post('/v1/auth/password-reset').send({ token: r2, password: 'the new password 1' }).expect(204);
    const reused = await http().post('/v1/auth/password-reset').send({ token: r1, password: 'the attacker password' }).expect(400);
    expect(reused.body.code).toBe('INVALID_TOKEN');
    await http().post('/v1/auth/magic-link/verify').send({ token: m1 }).expect(400);
    await http().post('/v1/auth/verify-email').send({ token: verify }).expect(400);
    await http().post('/v1/auth/login').send({ email: user.email, password: 'the new password 1' }).expect(200);
    await http().get('/v1/auth/me').set(bearer(user)).expect(401);
  });

  it('a password change ends outstanding reset and magic links', async () => {
    const user = await createUser(app);
    await http().post('/v1/auth/password-reset/request').send({ email: user.email }).expect(202);
    await http().post('/v1/auth/magic-link/request').send({ email: user.email }).expect(202);
    const [reset] = await linkTokens(app, user.email, '/auth/reset-password', 1);
    const [magic] = await linkTokens(app, user.email, '/auth/magic-link', 1);
    await http().patch('/v1/auth/me').set(bearer(user)).send({ currentPassword: TEST_PASSWORD, password: 'changed password 1' }).expect(200);
    await http().post('/v1/auth/password-reset').send({ token: reset, password: 'attacker password' }).expect(400);
    await http().post('/v1/auth/magic-link/verify').send({ token: magic }).expect(400);
    await http().post('/v1/auth/login').send({ email: user.email, password: 'changed password 1' }).expect(200);
  });

  it('disabling a user ends their outstanding links (enabling them again does not revive the links)', async () => {
    const user = await createUser(app);
    await http().post('/v1/auth/password-reset/request').send({ email: user.email }).expect(202);
    const [reset] = await linkTokens(app, user.email, '/auth/reset-password', 1);
    await http().patch(`/v1/admin/users/${user.id}`).set(service).send({ disabled: true }).expect(200);
    await http().patch(`/v1/admin/users/${user.id}`).set(service).send({ disabled: false }).expect(200);
    await http().post('/v1/auth/password-reset').send({ token: reset, password: 'attacker password' }).expect(400);
  });
});

describe('reset and magic-link requests answer before any work that depends on the account (issue 11, finding 12)', () => {
  it('answers an existing and an unknown email alike while the users table is locked, then does the work', async () => {
    const user = await createUser(app);
    const unknown = `nobody-${randomUUID()}@example.test`;
    const db = directPool();
    const lock = await db.connect();
    try {
      // Whoever reads users (the lookup), or writes tokens and emails, waits for this lock: the
      // answers below can only come before it is released if neither case does that work first.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE users, auth_tokens IN ACCESS EXCLUSIVE MODE');
      const answers = [];
      for (const route of ['/v1/auth/password-reset/request', '/v1/auth/magic-link/request']) {
        for (const email of [user.email, unknown]) {
          const res = await http().post(route).send({ email }).timeout(10_000);
          answers.push({ route, status: res.status, body: res.body });
        }
      }
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
      expect(answers[0]!.body).toEqual(answers[1]!.body);
      expect(answers[2]!.body).toEqual(answers[3]!.body);
      await lock.query('COMMIT');
    } finally {
      lock.release();
    }
    // After the answer, the work happens, the same way for both emails.
    await linkTokens(app, user.email, '/auth/reset-password', 1);
    await linkTokens(app, user.email, '/auth/magic-link', 1);
    const { rows } = await db.query<{ event: string; user_id: string | null }>(
      `SELECT event, user_id FROM audit_logs WHERE event IN ('password_reset.request', 'magic_link.request') AND (user_id = $1 OR (user_id IS NULL AND created_at > now() - interval '1 minute'))`,
      [user.id],
    );
    expect(rows.filter((r) => r.user_id === user.id).map((r) => r.event).sort()).toEqual(['magic_link.request', 'password_reset.request']);
    expect(rows.filter((r) => r.user_id === null).length).toBeGreaterThanOrEqual(2);
    const unknownMail = await http().get('/v1/email/messages').query({ to: unknown }).set(service).expect(200);
    expect(unknownMail.body.items).toEqual([]);
    await db.end();
  });
});

it('a graceful shutdown finishes the work of requests already answered', async () => {
  const app = await startApi();
  const user = await createUser(app);
  const db = directPool();
  const lock = await db.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE auth_tokens IN ACCESS EXCLUSIVE MODE');
    await request(app.getHttpServer()).post('/v1/auth/password-reset/request').send({ email: user.email }).expect(202);
    // The token cannot be written before the lock goes; close() must wait for it.
    setTimeout(() => void lock.query('COMMIT'), 500);
    await app.close();
  } finally {
    lock.release();
  }
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM auth_tokens WHERE user_id = $1 AND purpose = 'password_reset'`, [user.id]);
  await db.end();
  expect(rows[0]!.n).toBe(1);
});

describe('auth rate limits are per subject and cover every unauthenticated token route (issue 11, findings 9 and 11)', () => {
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());
  // MAX 2: 2 per email or user, 10 per IP. TRUST_PROXY lets each test speak from its own IP.
  beforeAll(async () => {
    app = await startApi(testConfig({ AUTH_RATE_LIMIT_MAX: '2', TRUST_PROXY: 'true', QUEUE_PREFIX: `${inject('queuePrefix')}_rl11` }));
  });
  afterAll(async () => {
    await app.close();
  });
  let ipCounter = 0;
  const newIp = () => `10.11.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

  it('verification resends are limited per user: five users at their limit do not lock out a sixth', async () => {
    const ip = newIp();
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await createUser(app));
    for (const user of users.slice(0, 5)) {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await http().post('/v1/auth/verify-email/request').set('x-forwarded-for', ip).set(bearer(user))).status);
      expect(statuses).toEqual([202, 202, 429]);
    }
    await http().post('/v1/auth/verify-email/request').set('x-forwarded-for', ip).set(bearer(users[5]!)).expect(202);
  });

  it('failed token uses are limited per client IP on reset, magic-link verify, verify-email and refresh', async () => {
    const routes: [string, Record<string, string>, number][] = [
      ['/v1/auth/password-reset', { token: 'x'.repeat(43), password: 'a long new password' }, 400],
      ['/v1/auth/magic-link/verify', { token: 'x'.repeat(43) }, 400],
      ['/v1/auth/verify-email', { token: 'x'.repeat(43) }, 400],
      ['/v1/auth/refresh', { refreshToken: `rt_${'x'.repeat(43)}` }, 401],
    ];
    for (const [route, body, failure] of routes) {
      const ip = newIp();
      const statuses = [];
      for (let i = 0; i < 11; i++) statuses.push((await http().post(route).set('x-forwarded-for', ip).send(body)).status);
      expect(statuses, route).toEqual([...Array<number>(10).fill(failure), 429]);
      // Another client is not affected.
      await http().post(route).set('x-forwarded-for', newIp()).send(body).expect(failure);
    }
  });

  it('the shared limits of one route do not mix: reset tokens and magic links count against the same failed-token budget', async () => {
    const ip = newIp();
    for (let i = 0; i < 5; i++) await http().post('/v1/auth/password-reset').set('x-forwarded-for', ip).send({ token: 'y'.repeat(43), password: 'a long new password' }).expect(400);
    for (let i = 0; i < 5; i++) await http().post('/v1/auth/magic-link/verify').set('x-forwarded-for', ip).send({ token: 'y'.repeat(43) }).expect(400);
    await http().post('/v1/auth/verify-email').set('x-forwarded-for', ip).send({ token: 'y'.repeat(43) }).expect(429);
  });

  it('a wrong current password on password change is limited per user, whatever the IP', async () => {
    const user = await createUser(app);
    for (let i = 0; i < 2; i++) {
      await http().patch('/v1/auth/me').set('x-forwarded-for', newIp()).set(bearer(user)).send({ currentPassword: 'wrong password', password: 'new long password' }).expect(401);
    }
    const limited = await http().patch('/v1/auth/me').set('x-forwarded-for', newIp()).set(bearer(user)).send({ currentPassword: TEST_PASSWORD, password: 'new long password' }).expect(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('reset and magic-link requests, login and signup are limited per email and per IP, never globally', async () => {
    const ip = newIp();
    const email = `rl-${randomUUID()}@example.test`;
    for (const route of ['/v1/auth/password-reset/request', '/v1/auth/magic-link/request']) {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await http().post(route).set('x-forwarded-for', ip).send({ email })).status);
      expect(statuses, route).toEqual([202, 202, 429]);
      await http().post(route).set('x-forwarded-for', ip).send({ email: `other-${randomUUID()}@example.test` }).expect(202);
    }
    const signupIp = newIp();
    for (let i = 0; i < 10; i++) {
      await http().post('/v1/auth/signup').set('x-forwarded-for', signupIp).send({ email: `s-${randomUUID()}@example.test`, password: TEST_PASSWORD }).expect(201);
    }
    await http().post('/v1/auth/signup').set('x-forwarded-for', signupIp).send({ email: `s-${randomUUID()}@example.test`, password: TEST_PASSWORD }).expect(429);
    await http().post('/v1/auth/signup').set('x-forwarded-for', newIp()).send({ email: `s-${randomUUID()}@example.test`, password: TEST_PASSWORD }).expect(201);
  });
});
