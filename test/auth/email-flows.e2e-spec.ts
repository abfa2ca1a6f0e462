import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWorker } from '../../apps/worker/src/worker.factory.js';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { createMigratedDatabase } from '../support/databases.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { bearer, createUser, TEST_PASSWORD } from '../support/users.js';

/**
 * Verification, password reset and magic link as a user lives them: the api queues the email,
 * the worker delivers it to a real SMTP server, and the token in the link is what works.
 */
describe('auth email flows', () => {
  const sink = new SmtpSink();
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    const port = await sink.start();
    // Own database and queue prefix: this file's worker must not act on other files' data.
    db = await createMigratedDatabase(inject('adminDatabaseUrl'), 'baas_authmail');
    const config = testConfig({
      DATABASE_URL: db.url,
      // Fewer connections than concurrent requests: a flow that takes a second connection
      // while its transaction holds one would deadlock here (the 20-concurrent-uses test).
      DATABASE_POOL_MAX: '4',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(port),
      APP_URL: 'https://app.example.test',
      QUEUE_PREFIX: `${inject('queuePrefix')}_authmail`,
    });
    app = await startApi(config);
    worker = await createWorker(config);
  });
  afterAll(async () => {
    await worker.close();
    await app.close();
    await sink.stop();
    await db.drop();
  });

  /** The token of the newest link of `kind` mailed to `email`. */
  async function tokenFromMail(email: string, path: string): Promise<string> {
    const mail = await sink.waitFor((m) => m.envelope.to.includes(email) && (m.text ?? '').includes(path));
    const link = new RegExp(`https://app\\.example\\.test${path}\\?token=([A-Za-z0-9_-]+)`).exec(mail.text ?? '');
    expect(link, mail.text).not.toBeNull();
    return link![1]!;
  }

  it('signup mails a verification link to the configured app URL whose token verifies the email once', async () => {
    const user = await createUser(app);
    const token = await tokenFromMail(user.email, '/auth/verify-email');
    const verified = await http().post('/v1/auth/verify-email').send({ token }).expect(200);
    expect(verified.body).toMatchObject({ id: user.id, emailVerified: true });
    const again = await http().post('/v1/auth/verify-email').send({ token }).expect(400);
    expect(again.body.code).toBe('INVALID_TOKEN');
    const me = await http().get('/v1/auth/me').set(bearer(user)).expect(200);
    expect(me.body.emailVerified).toBe(true);
  });

  it('links never use the request Host header', async () => {
    const user = await createUser(app);
    await http().post('/v1/auth/magic-link/request').set('Host', 'evil.example').send({ email: user.email }).expect(202);
    const mail = await sink.waitFor((m) => m.envelope.to.includes(user.email) && (m.text ?? '').includes('/auth/magic-link'));
    expect(mail.raw).not.toContain('evil.example');
  });

  it('password reset: same answer for unknown emails, the token works once, for its purpose only, and ends every session', async () => {
    const user = await createUser(app);
    const known = await http().post('/v1/auth/password-reset/request').send({ email: user.email }).expect(202);
    const unknown = await http().post('/v1/auth/password-reset/request').send({ email: 'nobody-here@example.test' }).expect(202);
    expect(known.body).toEqual(unknown.body);

    const token = await tokenFromMail(user.email, '/auth/reset-password');
    // A reset token is not a magic-link token, nor a verification token.
    await http().post('/v1/auth/magic-link/verify').send({ token }).expect(400);
    await http().post('/v1/auth/verify-email').send({ token }).expect(400);

    await http().post('/v1/auth/password-reset').send({ token, password: 'brand new password' }).expect(204);
    await http().post('/v1/auth/password-reset').send({ token, password: 'another new password' }).expect(400);
    await http().get('/v1/auth/me').set(bearer(user)).expect(401);
    await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(401);
    await http().post('/v1/auth/login').send({ email: user.email, password: 'brand new password' }).expect(200);
  });

  it('magic link: signs in with the mailed token, once', async () => {
    const user = await createUser(app);
    const unknown = await http().post('/v1/auth/magic-link/request').send({ email: 'ghost@example.test' }).expect(202);
    const known = await http().post('/v1/auth/magic-link/request').send({ email: user.email }).expect(202);
    expect(known.body).toEqual(unknown.body);
    const token = await tokenFromMail(user.email, '/auth/magic-link');
    const signedIn = await http().post('/v1/auth/magic-link/verify').send({ token }).expect(200);
    expect(signedIn.body.user).toMatchObject({ id: user.id, emailVerified: true });
    await http().get('/v1/auth/me').set(bearer(signedIn.body)).expect(200);
    await http().post('/v1/auth/magic-link/verify').send({ token }).expect(400);
  });

  it('twenty concurrent uses of one single-use token: exactly one succeeds', async () => {
    const user = await createUser(app);
    await http().post('/v1/auth/magic-link/request').send({ email: user.email }).expect(202);
    const token = await tokenFromMail(user.email, '/auth/magic-link');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => http().post('/v1/auth/magic-link/verify').send({ token })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200), String(statuses)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400), String(statuses)).toHaveLength(19);
  });
});

describe('auth rate limits', () => {
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startApi(
      testConfig({ AUTH_RATE_LIMIT_MAX: '3', QUEUE_PREFIX: `${inject('queuePrefix')}_ratelimit` }),
    );
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 429 with Retry-After after the configured number of failed logins, even with the right password', async () => {
    const user = await createUser(app);
    for (let i = 0; i < 3; i++) {
      await http().post('/v1/auth/login').send({ email: user.email, password: 'wrong password' }).expect(401);
    }
    const limited = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another account from the same address is still let in (the per-IP limit is higher).
    const other = await createUser(app);
    await http().post('/v1/auth/login').send({ email: other.email, password: TEST_PASSWORD }).expect(200);
  });

  it('limits reset and magic-link requests per email, with the same answer for unknown emails', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await http().post('/v1/auth/password-reset/request').send({ email: 'someone@example.test' })).status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
  });
});
