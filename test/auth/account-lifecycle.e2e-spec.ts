import { PassThrough } from 'node:stream';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { chromium, type Browser } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWorker } from '../../apps/worker/src/worker.factory.js';
import { PrismaService } from '#libs/database';
import { defineCollection, uniqueName } from '../collections/support.js';
import { startApi } from '../support/app.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { createMigratedDatabase } from '../support/databases.js';
import { freePort } from '../support/net.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { bearer, createUser, TEST_PASSWORD } from '../support/users.js';

const service = { 'x-api-key': SERVICE_KEY };
const GRACE_SECONDS = 2;

/**
 * The account lifecycle as a user lives it: concurrent refreshes, a disabled user's token,
 * the hosted pages behind email links (in a real browser), self-delete, email change,
 * profile and app metadata, scoped and expiring API keys, and no token in logs or errors.
 */
describe('account lifecycle', () => {
  const sink = new SmtpSink();
  const log = new PassThrough();
  const logLines: string[] = [];
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  let prisma: PrismaService;
  let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
  let publicUrl: string;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    const smtpPort = await sink.start();
    db = await createMigratedDatabase(inject('adminDatabaseUrl'), 'baas_lifecycle');
    log.on('data', (chunk: Buffer) => logLines.push(...chunk.toString().split('\n').filter(Boolean)));
    // The api listens where its emails' links point (APP_URL defaults to PUBLIC_URL): the hosted pages.
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const config = testConfig({
      PUBLIC_URL: publicUrl,
      DATABASE_URL: db.url,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      QUEUE_PREFIX: `${inject('queuePrefix')}_lifecycle`,
      LOG_LEVEL: 'info',
      AUTH_REFRESH_REUSE_GRACE_SECONDS: String(GRACE_SECONDS),
      AUTH_REDIRECT_URLS: 'https://app.example.test/welcome,myapp://auth/*',
    });
    app = await startApi(config, { logDestination: log });
    await app.listen({ port, host: '127.0.0.1' });
    worker = await createWorker({ ...config, LOG_LEVEL: 'silent' });
    prisma = app.get(PrismaService);
  });
  afterAll(async () => {
    await worker.close();
    await app.close();
    await sink.stop();
    await db.drop();
  });

  async function linkFromMail(to: string, path: string): Promise<string> {
    const mail = await sink.waitFor((m) => m.envelope.to.includes(to) && (m.text ?? '').includes(path));
    const link = new RegExp(`(http://[^\\s]+${path}\\?token=[A-Za-z0-9_-]+)`).exec(mail.text ?? '');
    expect(link, mail.text).not.toBeNull();
    return link![1]!;
  }
  const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

  describe('refresh-token reuse grace window', () => {
    it('two concurrent refreshes with one token both succeed, and both new tokens keep working', async () => {
      const user = await createUser(app);
      const [a, b] = await Promise.all([
        http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }),
        http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.body.refreshToken).not.toBe(b.body.refreshToken);
      // The winner's new token is not refused (the defect), nor the other's.
      await http().post('/v1/auth/refresh').send({ refreshToken: a.body.refreshToken }).expect(200);
      await http().post('/v1/auth/refresh').send({ refreshToken: b.body.refreshToken }).expect(200);
      await http().get('/v1/auth/me').set(bearer(a.body)).expect(200);
    });

    it('a replay after the window revokes the whole session', async () => {
      const user = await createUser(app);
      const next = await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 600));
      const replay = await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      expect(replay.body.code).toBe('INVALID_REFRESH_TOKEN');
      await http().post('/v1/auth/refresh').send({ refreshToken: next.body.refreshToken }).expect(401);
      const me = await http().get('/v1/auth/me').set(bearer(next.body)).expect(401);
      expect(me.body.code).toBe('SESSION_REVOKED');
    });

    it('within the window, a token of a revoked session is still refused', async () => {
      const user = await createUser(app);
      await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      await http().post('/v1/auth/logout').set(bearer(user)).expect(204);
      await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    });
  });

  it('a disabled or deleted user cannot write with an access token issued before', async () => {
    const name = await defineCollection(app, {
      name: uniqueName('notes'),
      fields: [{ name: 'text', type: 'string' }],
      rules: { list: 'authenticated', read: 'authenticated', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const disabled = await createUser(app);
    const deleted = await createUser(app);
    for (const user of [disabled, deleted]) await http().post(`/v1/collections/${name}/documents`).set(bearer(user)).send({ text: 'before' }).expect(201);
    await http().patch(`/v1/admin/users/${disabled.id}`).set(service).send({ disabled: true }).expect(200);
    await http().delete(`/v1/admin/users/${deleted.id}`).set(service).expect(204);
    for (const user of [disabled, deleted]) {
      const write = await http().post(`/v1/collections/${name}/documents`).set(bearer(user)).send({ text: 'after' }).expect(401);
      expect(write.body.code).toBe('SESSION_REVOKED');
      await http().get(`/v1/collections/${name}/documents`).set(bearer(user)).expect(401);
    }
    const { items } = (await http().get(`/v1/collections/${name}/documents`).set(service).expect(200)).body as { items: { text: string }[] };
    expect(items.map((d) => d.text).sort()).toEqual(['before', 'before']);
  });

  describe('hosted pages and tokens in logs', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
    });
    afterAll(async () => {
      await browser.close();
    });

    it('every email link opens a page served by the api, with a strict policy and the token nowhere in the HTML', async () => {
      for (const path of ['/auth/verify-email', '/auth/reset-password', '/auth/magic-link', '/auth/confirm-email-change']) {
        const page = await http().get(`${path}?token=secret-page-token-0123456789`).expect(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.headers['cache-control']).toBe('no-store');
        expect(page.headers['referrer-policy']).toBe('no-referrer');
        expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'sha256-/);
        expect(page.text).not.toContain('secret-page-token');
      }
    });

    it('verify email in a browser: opening the link changes nothing, the click confirms', async () => {
      const user = await createUser(app);
      const link = await linkFromMail(user.email, '/auth/verify-email');
      const page = await browser.newPage();
      try {
        await page.goto(link);
        // The token leaves the address bar at once; opening alone (a mail scanner) verifies nothing.
        expect(page.url()).not.toContain('token');
        expect((await http().get('/v1/auth/me').set(bearer(user)).expect(200)).body.emailVerified).toBe(false);
        await page.getByRole('button', { name: 'Confirm my email' }).click();
        await page.getByText('Your email address is confirmed').waitFor({ timeout: 20_000 });
      } finally {
        await page.close();
      }
      expect((await http().get('/v1/auth/me').set(bearer(user)).expect(200)).body.emailVerified).toBe(true);
    });

    it('reset password in a browser sets the new password', async () => {
      const user = await createUser(app);
      await http().post('/v1/auth/password-reset/request').send({ email: user.email }).expect(202);
      const link = await linkFromMail(user.email, '/auth/reset-password');
      const page = await browser.newPage();
      try {
        await page.goto(link);
        await page.locator('#password').fill('a brand new password');
        await page.locator('#confirm').fill('a brand new password');
        await page.getByRole('button', { name: 'Set the new password' }).click();
        await page.getByText('Your password is changed').waitFor({ timeout: 20_000 });
      } finally {
        await page.close();
      }
      await http().post('/v1/auth/login').send({ email: user.email, password: 'a brand new password' }).expect(200);
    });

    it('a magic link requested with an allowed redirect lands there with the tokens in the fragment', async () => {
      const user = await createUser(app);
      const refused = await http().post('/v1/auth/magic-link/request').send({ email: user.email, redirectTo: 'https://evil.example/welcome' }).expect(400);
      expect(refused.body.code).toBe('REDIRECT_NOT_ALLOWED');
      await http().post('/v1/auth/magic-link/request').send({ email: user.email, redirectTo: 'https://evil.example.test/x?u=https://app.example.test/welcome' }).expect(400);
      await http().post('/v1/auth/magic-link/request').send({ email: user.email, redirectTo: 'https://app.example.test/welcome' }).expect(202);
      const link = await linkFromMail(user.email, '/auth/magic-link');
      const page = await browser.newPage();
      try {
        // The app's page is not reachable from here: catch the navigation to it instead.
        await page.route('https://app.example.test/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>app</p>' }));
        await page.goto(link);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(/^https:\/\/app\.example\.test\/welcome#/, { timeout: 20_000 });
        const fragment = new URLSearchParams(new URL(page.url()).hash.slice(1));
        await http().get('/v1/auth/me').set(bearer({ accessToken: fragment.get('access_token')! })).expect(200);
        expect(fragment.get('refresh_token')).toMatch(/^rt_/);
      } finally {
        await page.close();
      }
    });

    it('a token in a URL appears neither in a 404 answer nor in the request log', async () => {
      const secret = 'SuperSecretToken0123456789abcdef';
      for (const url of [`/auth/verify-emial?token=${secret}`, `/v1/auth/verify-email?token=${secret}`, `/v1/nothing?x=1&code=${secret}&state=${secret}`]) {
        const res = await http().get(url);
        expect([404, 405]).toContain(res.status);
        expect(res.text).not.toContain(secret);
      }
      await http().get(`/auth/reset-password?token=${secret}`).expect(200);
      await expect.poll(() => logLines.filter((l) => l.includes('verify-emial')).length).toBeGreaterThan(0);
      const leaked = logLines.filter((l) => l.includes(secret));
      expect(leaked).toEqual([]);
      // The path and other parameters are still logged (the log stays useful).
      expect(logLines.some((l) => l.includes('/v1/nothing?x=1&code=[redacted]'))).toBe(true);
    });
  });

  describe('delete account', () => {
    it('needs the current password; afterwards the tokens, the login and the data of the account are gone', async () => {
      const user = await createUser(app);
      const other = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
      const missing = await http().delete('/v1/auth/me').set(bearer(user)).send({}).expect(400);
      expect(missing.body.code).toBe('PASSWORD_REQUIRED');
      const wrong = await http().delete('/v1/auth/me').set(bearer(user)).send({ currentPassword: 'not it at all' }).expect(401);
      expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
      await http().delete('/v1/auth/me').set(bearer(user)).send({ currentPassword: TEST_PASSWORD }).expect(204);

      for (const tokens of [user, other.body]) await http().get('/v1/auth/me').set(bearer(tokens)).expect(401);
      await http().post('/v1/auth/refresh').send({ refreshToken: other.body.refreshToken }).expect(401);
      await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(401);
      expect(await prisma.session.count({ where: { userId: user.id } })).toBe(0);
      expect(await prisma.auditLog.count({ where: { event: 'user.delete.self', actor: `user:${user.id}` } })).toBe(1);
      // The address is free again.
      await http().post('/v1/auth/signup').send({ email: user.email, password: TEST_PASSWORD }).expect(201);
    });

    it('the service role cannot call it (it is the signed-in user\'s own account)', async () => {
      const res = await http().delete('/v1/auth/me').set(service).send({}).expect(403);
      expect(res.body.code).toBe('USER_ONLY');
    });
  });

  describe('email change', () => {
    it('the new address gets a link; only opening it changes the email, once', async () => {
      const user = await createUser(app);
      const newEmail = `new-${user.email}`;
      await http().post('/v1/auth/email-change').set(bearer(user)).send({ email: newEmail }).expect(400);
      await http().post('/v1/auth/email-change').set(bearer(user)).send({ email: newEmail, currentPassword: TEST_PASSWORD }).expect(202);
      // Until confirmed, nothing changes.
      expect((await http().get('/v1/auth/me').set(bearer(user)).expect(200)).body.email).toBe(user.email);
      const token = tokenOf(await linkFromMail(newEmail, '/auth/confirm-email-change'));
      const confirmed = await http().post('/v1/auth/email-change/confirm').send({ token }).expect(200);
      expect(confirmed.body).toMatchObject({ id: user.id, email: newEmail, emailVerified: true });
      await http().post('/v1/auth/email-change/confirm').send({ token }).expect(400);
      expect((await http().get('/v1/auth/me').set(bearer(user)).expect(200)).body.email).toBe(newEmail);
      await http().post('/v1/auth/login').send({ email: newEmail, password: TEST_PASSWORD }).expect(200);
      await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(401);
    });

    it('an address in use is refused, at request and at confirmation', async () => {
      const user = await createUser(app);
      const taken = await createUser(app);
      const res = await http().post('/v1/auth/email-change').set(bearer(user)).send({ email: taken.email, currentPassword: TEST_PASSWORD }).expect(409);
      expect(res.body.code).toBe('EMAIL_TAKEN');
      const target = `later-${user.email}`;
      await http().post('/v1/auth/email-change').set(bearer(user)).send({ email: target, currentPassword: TEST_PASSWORD }).expect(202);
      const token = tokenOf(await linkFromMail(target, '/auth/confirm-email-change'));
      await http().post('/v1/auth/signup').send({ email: target, password: TEST_PASSWORD }).expect(201);
      const late = await http().post('/v1/auth/email-change/confirm').send({ token }).expect(409);
      expect(late.body.code).toBe('EMAIL_TAKEN');
    });
  });

  describe('profile and metadata', () => {
    it('a user edits displayName and userMetadata; appMetadata and roles only admins set', async () => {
      const user = await createUser(app);
      const updated = await http().patch('/v1/auth/me').set(bearer(user)).send({ displayName: 'Ada', userMetadata: { theme: 'dark' } }).expect(200);
      expect(updated.body).toMatchObject({ displayName: 'Ada', userMetadata: { theme: 'dark' }, appMetadata: {} });
      for (const body of [{ appMetadata: { plan: 'pro' } }, { roles: ['admin'] }, { userMetadata: { 'bad key': 1 } }, { userMetadata: { big: 'x'.repeat(17_000) } }, {}]) {
        const res = await http().patch('/v1/auth/me').set(bearer(user)).send(body).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      await http().patch('/v1/auth/me').set(bearer(user)).send({ password: 'a new password 1' }).expect(400);
      await http().patch(`/v1/admin/users/${user.id}`).set(service).send({ appMetadata: { plan: 'pro' } }).expect(200);
      const me = await http().get('/v1/auth/me').set(bearer(user)).expect(200);
      expect(me.body).toMatchObject({ displayName: 'Ada', userMetadata: { theme: 'dark' }, appMetadata: { plan: 'pro' } });
      const login = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
      expect(login.body.user.appMetadata).toEqual({ plan: 'pro' });
      await http().patch('/v1/auth/me').set(bearer(user)).send({ displayName: null }).expect(200);
      expect((await http().get('/v1/auth/me').set(bearer(user)).expect(200)).body.displayName).toBeNull();
    });
  });

  describe('API keys with scopes and expiry', () => {
    async function key(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
      return (await http().post('/v1/admin/api-keys').set(service).send(body).expect(201)).body as { id: string; key: string };
    }

    it('a read-only collections key reads documents and nothing else', async () => {
      const name = await defineCollection(app, {
        name: uniqueName('scoped'),
        fields: [{ name: 'n', type: 'number' }],
        rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
      });
      await http().post(`/v1/collections/${name}/documents`).set(service).send({ n: 1 }).expect(201);
      const created = await key({ name: 'reader', scopes: ['collections', 'read-only'] });
      const k = { 'x-api-key': created.key };
      const list = await http().get(`/v1/collections/${name}/documents`).set(k).expect(200);
      expect(list.body.items).toHaveLength(1);
      const refused = [
        http().post(`/v1/collections/${name}/documents`).set(k).send({ n: 2 }),
        http().post('/v1/batch').set(k).send({ operations: [] }),
        http().get('/v1/storage/buckets').set(k),
        http().get('/v1/functions').set(k),
        http().get('/v1/admin/users').set(k),
        http().post('/v1/admin/api-keys').set(k).send({ name: 'escalate' }),
        http().get('/v1/email/messages').set(k),
      ];
      for (const res of await Promise.all(refused)) {
        expect(res.status, res.text).toBe(403);
        expect(res.body.code).toBe('API_KEY_SCOPE');
      }
      const view = (await http().get('/v1/admin/api-keys').set(service).expect(200)).body.items.find((i: { id: string }) => i.id === created.id);
      expect(view).toMatchObject({ scopes: ['collections', 'read-only'], expiresAt: null });
    });

    it('a storage key writes storage only; a key without scopes keeps full access', async () => {
      const storage = { 'x-api-key': (await key({ name: 'files', scopes: ['storage'] })).key };
      await http().post('/v1/storage/buckets').set(storage).send({ name: uniqueName('b').replace(/_/g, '-') }).expect(201);
      expect((await http().get('/v1/collections').set(storage).expect(403)).body.code).toBe('API_KEY_SCOPE');
      const full = { 'x-api-key': (await key({ name: 'full' })).key };
      await http().get('/v1/admin/users').set(full).expect(200);
      await http().get('/v1/collections').set(full).expect(200);
    });

    it('an expired key is refused; bad scopes or a past expiry are refused at creation', async () => {
      const created = await key({ name: 'short', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
      await http().get('/v1/collections').set('x-api-key', created.key).expect(200);
      await prisma.apiKey.update({ where: { id: created.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const res = await http().get('/v1/collections').set('x-api-key', created.key).expect(401);
      expect(res.body.code).toBe('INVALID_API_KEY');
      for (const body of [{ name: 'x', scopes: ['everything'] }, { name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, { name: 'x', expiresAt: 'tomorrow' }]) {
        expect((await http().post('/v1/admin/api-keys').set(service).send(body).expect(400)).body.code).toBe('VALIDATION_FAILED');
      }
    });
  });
});
