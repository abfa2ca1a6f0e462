import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaService } from '#libs/database';
import { REDIS } from '#libs/queue';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { freePort } from '../support/net.js';
import { subscribe } from '../support/subscribers.js';
import { type TestAccount, TestOidcProvider } from '../support/oidc-provider.js';
import { createUser, TEST_PASSWORD } from '../support/users.js';
import { Browser } from '../support/oauth-browser.js';

const APP_CALLBACK = 'https://app.example.test/auth/callback';
const NATIVE_CALLBACK = 'myapp://auth/callback';
const CLIENT = { client_id: 'baas-app', client_secret: 'provider-client-secret-123' };

describe('sign in with an OpenID Connect provider (real oidc-provider on loopback)', () => {
  const idp = new TestOidcProvider();
  let app: NestFastifyApplication;
  let api: string;
  let prisma: PrismaService;
  let redis: Redis;
  const json = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { code?: string } };
  };
  const service = { 'x-api-key': SERVICE_KEY };

  beforeAll(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    await idp.start([{ ...CLIENT, redirect_uris: [`${api}/v1/auth/oauth/acme/callback`, `${api}/v1/auth/oauth/acme2/callback`] }]);
    app = await startApi(
      testConfig({
        PUBLIC_URL: api,
        AUTH_REDIRECT_URLS: `${APP_CALLBACK},myapp://auth/*`,
        AUTH_OIDC_ALLOW_INSECURE: 'true',
      }),
    );
    await app.listen({ port, host: '127.0.0.1' });
    prisma = app.get(PrismaService);
    redis = app.get<Redis>(REDIS);
    const put = await json('PUT', '/v1/admin/auth-providers/acme', { kind: 'oidc', issuer: idp.issuer, clientId: CLIENT.client_id, clientSecret: CLIENT.client_secret, audiences: ['ios-app'] }, service);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });
  afterAll(async () => {
    await app.close();
    await idp.stop();
  });

  /** The whole redirect flow in a fresh browser; returns where the browser lands at the app. */
  async function signIn(account: TestAccount, options: { start?: string; browser?: Browser } = {}): Promise<URL> {
    idp.nextAccount = account;
    const browser = options.browser ?? new Browser();
    const start = options.start ?? `${api}/v1/auth/oauth/acme/authorize?redirectTo=${encodeURIComponent(APP_CALLBACK)}`;
    return new URL((await browser.follow(start, APP_CALLBACK.split('/auth/')[0]!)).url);
  }
  async function exchange(landing: URL) {
    expect(landing.searchParams.get('error'), landing.searchParams.get('error_description') ?? '').toBeNull();
    return json('POST', '/v1/auth/oauth/exchange', { code: landing.searchParams.get('code') });
  }
  const account = (overrides: Partial<TestAccount> = {}): TestAccount => ({
    sub: `sub-${randomUUID()}`,
    email: `oidc-${randomUUID()}@example.test`,
    email_verified: true,
    name: 'Oidc User',
    ...overrides,
  });

  it('bad input on every sign-in route is a clear 4xx, never a 500', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['GET', '/v1/auth/oauth/Bad!Id/authorize?redirectTo=x', undefined, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/auth/oauth/acme/authorize', undefined, 400, 'VALIDATION_FAILED'],
      ['GET', `/v1/auth/oauth/acme/authorize?redirectTo=${encodeURIComponent(APP_CALLBACK)}&extra=1`, undefined, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/auth/oauth/acme/callback', undefined, 400, 'OAUTH_STATE_INVALID'],
      ['GET', `/v1/auth/oauth/acme/callback?state=${'x'.repeat(500)}&code=y`, undefined, 400, 'OAUTH_STATE_INVALID'],
      ['POST', '/v1/auth/oauth/exchange', { code: { $ne: '' } }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/auth/oauth/exchange', { code: 'oc_unknown_code_0123456789' }, 400, 'OAUTH_CODE_INVALID'],
      ['POST', '/v1/auth/oauth/nope/id-token', { idToken: 'a.b.c-0123456789abcdefgh' }, 404, 'OAUTH_PROVIDER_NOT_FOUND'],
      ['POST', '/v1/auth/oauth/acme/id-token', { idToken: 'aaaa.bbbb.cccc-0123456789' }, 401, 'OAUTH_ID_TOKEN_INVALID'],
      ['PUT', '/v1/admin/auth-providers/acme', { kind: 'oidc', issuer: 'ftp://x', clientId: 'x' }, 400, 'VALIDATION_FAILED'],
      ['PUT', '/v1/admin/auth-providers/acme', { kind: 'oidc', issuer: idp.issuer, clientId: 'x', scopes: ['a b'] }, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/admin/auth-providers/nope', undefined, 404, 'OAUTH_PROVIDER_NOT_FOUND'],
      ['DELETE', '/v1/auth/identities/not-a-uuid', undefined, 401, 'UNAUTHENTICATED'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await json(method, path, body, path.startsWith('/v1/admin') ? service : {});
      expect([res.status, res.body.code], `${method} ${path}`).toEqual([status, code]);
    }
  });

  describe('admin configuration', () => {
    it('stores the client secret encrypted and never returns it; validates the settings', async () => {
      const row = await prisma.authProvider.findUniqueOrThrow({ where: { id: 'acme' } });
      expect(row.clientSecret).toMatch(/^v1\./);
      expect(row.clientSecret).not.toContain(CLIENT.client_secret);
      const view = await json('GET', '/v1/admin/auth-providers/acme', undefined, service);
      expect(view.body).toMatchObject({ id: 'acme', kind: 'oidc', hasClientSecret: true });
      expect(JSON.stringify(view.body)).not.toContain(CLIENT.client_secret);
      const listed = await json('GET', '/v1/auth/providers');
      expect(listed.body.items).toEqual(expect.arrayContaining([{ id: 'acme', kind: 'oidc' }]));
      for (const body of [{ kind: 'oidc', clientId: 'x' }, { kind: 'nope', clientId: 'x' }, { kind: 'microsoft', clientId: 'x', options: { tenant: 'common' } }, { kind: 'apple', clientId: 'x' }]) {
        const res = await json('PUT', '/v1/admin/auth-providers/bad', body, service);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      const user = await createUser(app);
      expect((await json('PUT', '/v1/admin/auth-providers/x', { kind: 'oidc', issuer: idp.issuer, clientId: 'x' }, { authorization: `Bearer ${user.accessToken}` })).status).toBe(403);
    });
  });

  describe('the redirect flow', () => {
    it('a new user signs up through the provider: code + PKCE + state + nonce, then a one-time code for the app', async () => {
      const who = account();
      const landing = await signIn(who);
      expect(landing.origin + landing.pathname).toBe(APP_CALLBACK);
      const session = await exchange(landing);
      expect(session.status, JSON.stringify(session.body)).toBe(200);
      const user = session.body.user as { id: string; email: string; emailVerified: boolean; displayName: string };
      expect(user).toMatchObject({ email: who.email, emailVerified: true, displayName: 'Oidc User' });
      const me = await json('GET', '/v1/auth/me', undefined, { authorization: `Bearer ${String(session.body.accessToken)}` });
      expect(me.status).toBe(200);
      // The same provider account again: the same user.
      const again = await exchange(await signIn(who));
      expect((again.body.user as { id: string }).id).toBe(user.id);
      // The app's code works once.
      const replay = await json('POST', '/v1/auth/oauth/exchange', { code: landing.searchParams.get('code') });
      expect(replay.status).toBe(400);
      expect(replay.body.code).toBe('OAUTH_CODE_INVALID');
      const identities = await json('GET', '/v1/auth/identities', undefined, { authorization: `Bearer ${String(session.body.accessToken)}` });
      expect(identities.body.items).toEqual([expect.objectContaining({ provider: 'acme', email: who.email, emailVerified: true })]);
    });

    it('a native app with a custom-scheme redirect gets its code the same way', async () => {
      const landing = new URL((await new Browser().follow(`${api}/v1/auth/oauth/acme/authorize?redirectTo=${encodeURIComponent(NATIVE_CALLBACK)}`, 'myapp:')).url);
      expect(landing.protocol).toBe('myapp:');
      expect(landing.searchParams.get('code')).toMatch(/^oc_/);
    });

    it('a redirect URL not on the list is refused before anything else', async () => {
      idp.nextAccount = account();
      for (const target of ['https://evil.example/cb', `${APP_CALLBACK}/../../evil`, `${APP_CALLBACK}?x=1`]) {
        const res = await new Browser().get(`${api}/v1/auth/oauth/acme/authorize?redirectTo=${encodeURIComponent(target)}`);
        expect(res.status).toBe(400);
        expect(((await res.json()) as { code: string }).code).toBe('REDIRECT_NOT_ALLOWED');
      }
      const unknown = await new Browser().get(`${api}/v1/auth/oauth/nope/authorize?redirectTo=${encodeURIComponent(APP_CALLBACK)}`);
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { code: string }).code).toBe('OAUTH_PROVIDER_NOT_FOUND');
    });

    /** Runs the flow up to the provider's redirect back to the api, without following it. */
    async function callbackUrlOf(browser: Browser, who: TestAccount): Promise<string> {
      idp.nextAccount = who;
      const { url, hops } = await browser.follow(`${api}/v1/auth/oauth/acme/authorize?redirectTo=${encodeURIComponent(APP_CALLBACK)}`, `${api}/v1/auth/oauth/acme/callback`);
      // authorize → the provider (→ its interaction → the provider, without a session there yet) → the api's callback.
      expect(hops.length).toBeGreaterThan(1);
      expect(new URL(url).searchParams.get('code')).toBeTruthy();
      return url;
    }

    it('forged, replayed and other-browser states are refused with OAUTH_STATE_INVALID', async () => {
      const browser = new Browser();
      const callback = await callbackUrlOf(browser, account());
      // Another browser (no flow cookie) presenting the callback: refused, and the state is spent.
      const stolen = await new Browser().get(callback);
      expect(stolen.status).toBe(400);
      expect(((await stolen.json()) as { code: string }).code).toBe('OAUTH_STATE_INVALID');
      const replay = await browser.get(callback);
      expect(replay.status).toBe(400);
      // A state nobody issued.
      const forged = new URL(callback);
      forged.searchParams.set('state', 'forged-state-value-0123456789');
      const res = await browser.get(forged.toString());
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('OAUTH_STATE_INVALID');
      // And a genuine flow replayed after it completed.
      const b2 = new Browser();
      const cb2 = await callbackUrlOf(b2, account());
      expect((await b2.get(cb2)).status).toBe(302);
      const again = await b2.get(cb2);
      expect(again.status).toBe(400);
    });

    it('a code from an earlier flow (used or expired at the provider) comes back as error=OAUTH_CODE_INVALID', async () => {
      const browser = new Browser();
      const first = await callbackUrlOf(browser, account());
      expect((await browser.get(first)).status).toBe(302);
      // A new flow in the same browser, answered with the old code and the new state.
      const second = new URL(await callbackUrlOf(browser, account()));
      second.searchParams.set('code', new URL(first).searchParams.get('code')!);
      const res = await browser.get(second.toString());
      const landing = new URL(res.headers.get('location')!);
      expect(landing.searchParams.get('error')).toBe('OAUTH_CODE_INVALID');
      expect(landing.searchParams.get('code')).toBeNull();
    });

    it('an ID token whose nonce is not the flow\'s is refused: error=OAUTH_NONCE_MISMATCH', async () => {
      const browser = new Browser();
      const callback = await callbackUrlOf(browser, account());
      const state = new URL(callback).searchParams.get('state')!;
      // The flow kept server-side now expects another nonce than the one the provider signed.
      const keys = await redis.keys(`${testConfig().QUEUE_PREFIX}:oauth:flow:*`);
      for (const key of keys) {
        const raw = await redis.get(key);
        if (raw && (JSON.parse(raw) as { state: string }).state === state) {
          await redis.set(key, JSON.stringify({ ...(JSON.parse(raw) as object), nonce: 'another-nonce-value' }), 'EX', 60);
        }
      }
      const res = await browser.get(callback);
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('OAUTH_NONCE_MISMATCH');
    });

    it('a provider that answers with an error is passed on as error=OAUTH_DENIED', async () => {
      const browser = new Browser();
      const callback = new URL(await callbackUrlOf(browser, account()));
      callback.searchParams.delete('code');
      callback.searchParams.set('error', 'access_denied');
      const res = await browser.get(callback.toString());
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('OAUTH_DENIED');
    });
  });

  describe('account linking', () => {
    it('pre-account takeover: an unverified account with the victim\'s email does not get the victim\'s provider sign-in', async () => {
      const victimEmail = `victim-${randomUUID()}@example.test`;
      // The attacker registers the victim's address with a password and never verifies it.
      const attacker = await createUser(app, { email: victimEmail });
      const landing = await signIn(account({ email: victimEmail, email_verified: true }));
      expect(landing.searchParams.get('error')).toBe('OAUTH_ACCOUNT_EXISTS');
      expect(landing.searchParams.get('code')).toBeNull();
      expect(await prisma.userIdentity.count({ where: { userId: attacker.id } })).toBe(0);
      // The victim proves the address (password reset) and links from inside: then it works.
    });

    it('the reverse takeover: an account made through a provider with an unverified email loses that identity when the owner resets the password', async () => {
      const victimEmail = `owner-${randomUUID()}@example.test`;
      // The attacker signs in first, through a provider that does not verify emails.
      const attackerAccount = account({ email: victimEmail, email_verified: false });
      const first = await exchange(await signIn(attackerAccount));
      const id = (first.body.user as { id: string; emailVerified: boolean }).id;
      expect((first.body.user as { emailVerified: boolean }).emailVerified).toBe(false);
      // The owner of the address resets the password (the link reaches only them).
      const token = `reset_${randomUUID()}`;
      const { hashToken } = await import('../../apps/api/src/auth/token.service.js');
      await prisma.authToken.create({ data: { userId: id, purpose: 'password_reset', tokenHash: hashToken(token), expiresAt: new Date(Date.now() + 60_000) } });
      expect((await json('POST', '/v1/auth/password-reset', { token, password: 'the owner password' })).status).toBe(204);
      expect(await prisma.userIdentity.count({ where: { userId: id } })).toBe(0);
      // The attacker's provider sign-in no longer opens the account.
      expect((await signIn(attackerAccount)).searchParams.get('error')).toBe('OAUTH_ACCOUNT_EXISTS');
      // The attacker's session ended with the reset.
      expect((await json('GET', '/v1/auth/me', undefined, { authorization: `Bearer ${String(first.body.accessToken)}` })).status).toBe(401);
    });

    it('a provider that does not assert the email verified never links to an existing account', async () => {
      const owner = await createUser(app);
      await prisma.user.update({ where: { id: owner.id }, data: { emailVerified: true } });
      const landing = await signIn(account({ email: owner.email, email_verified: false }));
      expect(landing.searchParams.get('error')).toBe('OAUTH_ACCOUNT_EXISTS');
    });

    it('verified on both sides: the provider identity links to the existing account', async () => {
      const owner = await createUser(app);
      await prisma.user.update({ where: { id: owner.id }, data: { emailVerified: true } });
      const session = await exchange(await signIn(account({ email: owner.email })));
      expect((session.body.user as { id: string }).id).toBe(owner.id);
    });

    it('a signed-in user links a provider, lists it and unlinks it; the last sign-in method cannot be unlinked', async () => {
      await subscribe(app, { type: 'auth', events: ['signup', 'link', 'unlink'] });
      const user = await createUser(app);
      const bearer = { authorization: `Bearer ${user.accessToken}` };
      const bad = await json('POST', '/v1/auth/identities/acme/link', { redirectTo: 'https://evil.example/' }, bearer);
      expect(bad.body.code).toBe('REDIRECT_NOT_ALLOWED');
      const started = await json('POST', '/v1/auth/identities/acme/link', { redirectTo: APP_CALLBACK }, bearer);
      expect(started.status).toBe(200);
      // A different email at the provider is fine: the user proved both sides.
      const who = account({ email: `other-${randomUUID()}@example.test` });
      const landing = await signIn(who, { start: started.body.url as string });
      expect(landing.searchParams.get('error')).toBeNull();
      const list = await json('GET', '/v1/auth/identities', undefined, bearer);
      expect(list.body.items).toHaveLength(1);
      // Signing in with that provider account now opens this user's account.
      expect(((await exchange(await signIn(who))).body.user as { id: string }).id).toBe(user.id);
      // The ticket in the link URL works once.
      const reuse = await new Browser().get(started.body.url as string);
      expect(reuse.status).toBe(400);
      // Another user cannot link the same provider account.
      const other = await createUser(app);
      const otherStart = await json('POST', '/v1/auth/identities/acme/link', { redirectTo: APP_CALLBACK }, { authorization: `Bearer ${other.accessToken}` });
      expect((await signIn(who, { start: otherStart.body.url as string })).searchParams.get('error')).toBe('IDENTITY_IN_USE');

      const id = (list.body.items as { id: string }[])[0]!.id;
      expect((await json('DELETE', `/v1/auth/identities/${id}`, undefined, bearer)).status).toBe(204);
      expect(((await json('GET', '/v1/auth/identities', undefined, bearer)).body.items as unknown[]).length).toBe(0);
      // The password still signs in.
      expect((await json('POST', '/v1/auth/login', { email: user.email, password: TEST_PASSWORD })).status).toBe(200);
      // Link and unlink went to the outbox for functions.
      const events = await prisma.outboxEvent.findMany({ where: { type: 'auth.identity' }, orderBy: { createdAt: 'asc' } });
      const mine = events.map((e) => e.payload as { operation: string; userId: string; provider: string }).filter((p) => p.userId === user.id);
      expect(mine).toEqual([
        { operation: 'link', userId: user.id, provider: 'acme' },
        { operation: 'unlink', userId: user.id, provider: 'acme' },
      ]);
    });

    it('a first provider sign-in is an auth.signup event naming the provider', async () => {
      await subscribe(app, { type: 'auth', events: ['signup'] });
      const session = await exchange(await signIn(account()));
      const id = (session.body.user as { id: string }).id;
      const events = await prisma.outboxEvent.findMany({ where: { type: 'auth.signup' } });
      const mine = events.map((e) => e.payload as { user: { id: string }; provider?: string }).find((p) => p.user.id === id);
      expect(mine?.provider).toBe('acme');
    });

    it('a guest upgrades by linking a provider: same id, the provider\'s email, no longer anonymous', async () => {
      const guest = await json('POST', '/v1/auth/anonymous');
      expect(guest.status).toBe(201);
      const guestId = (guest.body.user as { id: string }).id;
      const bearer = { authorization: `Bearer ${String(guest.body.accessToken)}` };
      const who = account();
      const started = await json('POST', '/v1/auth/identities/acme/link', { redirectTo: APP_CALLBACK }, bearer);
      const landing = await signIn(who, { start: started.body.url as string });
      expect(landing.searchParams.get('error')).toBeNull();
      const me = await json('GET', '/v1/auth/me', undefined, bearer);
      expect(me.body).toMatchObject({ id: guestId, email: who.email, emailVerified: true, isAnonymous: false });
      // Signing in with the provider now opens the former guest's account.
      expect(((await exchange(await signIn(who))).body.user as { id: string }).id).toBe(guestId);
      // A guest cannot take an email another account has.
      const other = await json('POST', '/v1/auth/anonymous');
      const otherStart = await json('POST', '/v1/auth/identities/acme/link', { redirectTo: APP_CALLBACK }, { authorization: `Bearer ${String(other.body.accessToken)}` });
      const clash = await signIn(account({ email: who.email }), { start: otherStart.body.url as string });
      expect(clash.searchParams.get('error')).toBe('OAUTH_ACCOUNT_EXISTS');
    });

    it('an account made by a provider (no password) cannot unlink its only identity', async () => {
      const session = await exchange(await signIn(account()));
      const bearer = { authorization: `Bearer ${String(session.body.accessToken)}` };
      const list = await json('GET', '/v1/auth/identities', undefined, bearer);
      const id = (list.body.items as { id: string }[])[0]!.id;
      const res = await json('DELETE', `/v1/auth/identities/${id}`, undefined, bearer);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('LAST_SIGN_IN_METHOD');
      expect((await json('DELETE', `/v1/auth/identities/${randomUUID()}`, undefined, bearer)).status).toBe(404);
    });
  });

  describe('native sign-in with an ID token (verified against the provider JWKS)', () => {
    async function idToken(claims: Record<string, unknown>, options: { key?: JWK; kid?: string } = {}): Promise<string> {
      const key = await importJWK(options.key ?? idp.privateKey, 'RS256');
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'test-key' })
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key);
    }
    const valid = (over: Record<string, unknown> = {}) => ({
      iss: idp.issuer,
      aud: CLIENT.client_id,
      sub: `native-${randomUUID()}`,
      email: `native-${randomUUID()}@example.test`,
      email_verified: true,
      nonce: 'n-0123456789',
      ...over,
    });

    it('a valid token signs in (raw or SHA-256 nonce; an extra audience of the app)', async () => {
      const res = await json('POST', '/v1/auth/oauth/acme/id-token', { idToken: await idToken(valid()), nonce: 'n-0123456789' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const hashed = (await crypto.subtle.digest('SHA-256', new TextEncoder().encode('raw-nonce-42'))).slice(0);
      const hex = Buffer.from(hashed).toString('hex');
      const ios = await json('POST', '/v1/auth/oauth/acme/id-token', { idToken: await idToken(valid({ aud: 'ios-app', nonce: hex })), nonce: 'raw-nonce-42' });
      expect(ios.status, JSON.stringify(ios.body)).toBe(200);
    });

    it.each([
      ['another audience', { aud: 'someone-else' }, 'OAUTH_ID_TOKEN_INVALID'],
      ['another issuer', { iss: 'http://127.0.0.1:1/evil' }, 'OAUTH_ID_TOKEN_INVALID'],
      ['expired', { exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 1200 }, 'OAUTH_ID_TOKEN_INVALID'],
      ['a wrong nonce', { nonce: 'other-nonce' }, 'OAUTH_NONCE_MISMATCH'],
    ])('refuses %s', async (_name, over, code) => {
      let token: string;
      if ('exp' in over) {
        const key = await importJWK(idp.privateKey, 'RS256');
        token = await new SignJWT(valid(over)).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(key);
      } else {
        token = await idToken(valid(over));
      }
      const res = await json('POST', '/v1/auth/oauth/acme/id-token', { idToken: token, nonce: 'n-0123456789' });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(code);
    });

    it('the Apple preset: its client secret is signed from the stored key; email_verified "true" (a string) counts; a bad key is 503, not a crash', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      const settings = { kind: 'apple', issuer: idp.issuer, clientId: 'com.example.web', options: { teamId: 'ABCDE12345', keyId: 'KEY1234567' } };
      expect((await json('PUT', '/v1/admin/auth-providers/apple-test', { ...settings, clientSecret: pem }, service)).status).toBe(200);
      const email = `apple-${randomUUID()}@privaterelay.appleid.com`;
      const ok = await json('POST', '/v1/auth/oauth/apple-test/id-token', { idToken: await idToken(valid({ aud: 'com.example.web', email, email_verified: 'true' })), nonce: 'n-0123456789' });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.user).toMatchObject({ email, emailVerified: true });
      expect((await json('PUT', '/v1/admin/auth-providers/apple-bad', { ...settings, clientSecret: 'not a key at all' }, service)).status).toBe(200);
      const bad = await json('POST', '/v1/auth/oauth/apple-bad/id-token', { idToken: await idToken(valid({ aud: 'com.example.web' })), nonce: 'n-0123456789' });
      expect(bad.status).toBe(503);
      expect(bad.body.code).toBe('OAUTH_PROVIDER_MISCONFIGURED');
    });

    it('refuses a token signed by another key, a missing nonce, and a non-JWT', async () => {
      const other = new TestOidcProvider();
      const forged = await idToken(valid(), { key: other.privateKey });
      expect((await json('POST', '/v1/auth/oauth/acme/id-token', { idToken: forged, nonce: 'n-0123456789' })).body.code).toBe('OAUTH_ID_TOKEN_INVALID');
      expect((await json('POST', '/v1/auth/oauth/acme/id-token', { idToken: await idToken(valid()) })).body.code).toBe('OAUTH_NONCE_MISMATCH');
      const bad = await json('POST', '/v1/auth/oauth/acme/id-token', { idToken: 'not-a-jwt-at-all-0123456789' });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    });
  });
});
