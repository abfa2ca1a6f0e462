import { createHmac } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { type AuthEvent, BaasError, localStorageStore, MfaRequiredError, type TokenStore } from '../../packages/sdk/src/index.js';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { PASSWORD, sdkClients, uniqueEmail } from './support.js';

const config = testConfig({ JWT_ACCESS_TTL_SECONDS: '30' });

/** An access token the server itself would issue, but expired a minute ago. */
function expiredCopyOf(token: string): string {
  const [, payload] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  const body = Buffer.from(JSON.stringify({ ...claims, iat: now - 120, exp: now - 60 })).toString('base64url');
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const signature = createHmac('sha256', config.JWT_SECRET).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

/** A store like React Native's AsyncStorage: every call is asynchronous. */
function asyncStore(): TokenStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  const later = <T>(v: T) => new Promise<T>((resolve) => setTimeout(() => resolve(v), 2));
  return {
    items,
    getItem: (key) => later(items.get(key) ?? null),
    setItem: async (key, value) => void (await later(items.set(key, value))),
    removeItem: async (key) => void (await later(items.delete(key))),
  };
}

function recordEvents(client: { auth: { onAuthStateChange(l: (e: AuthEvent) => void): () => void } }): AuthEvent[] {
  const events: AuthEvent[] = [];
  client.auth.onAuthStateChange((event) => events.push(event));
  return events;
}

describe('SDK auth against the real api', () => {
  let app: NestFastifyApplication;
  let sdk: ReturnType<typeof sdkClients>;

  beforeAll(async () => {
    app = await startApi(config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    sdk = sdkClients(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
  });
  afterAll(async () => {
    sdk?.expectContractKept();
    await app?.close();
  });

  it('signs up, reads the user and its sessions, signs in elsewhere, ends a session, signs out', async () => {
    const email = uniqueEmail('sdk-auth');
    const phone = sdk.app();
    const events = recordEvents(phone);
    const session = await phone.auth.signUp({ email, password: PASSWORD });
    expect(session.user).toMatchObject({ email, emailVerified: false, roles: [] });
    expect(session.expiresAt).toBeGreaterThan(Date.now() + 20_000);
    expect(events).toEqual(['signed_in']);
    expect(await phone.auth.getUser()).toMatchObject({ id: session.user.id, email });

    const laptop = sdk.app();
    await laptop.auth.signInWithPassword({ email, password: PASSWORD });
    const sessions = await laptop.auth.listSessions();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);

    // The laptop ends the phone's session: the phone's next refresh fails and it is signed out.
    const phoneSession = sessions.find((s) => !s.current)!;
    await laptop.auth.revokeSession(phoneSession.id);
    expect(await phone.auth.refresh()).toBeNull();
    expect(events).toEqual(['signed_in', 'refresh_failed', 'signed_out']);
    expect(await phone.auth.getSession()).toBeNull();
    await expect(phone.auth.getUser()).rejects.toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });

    const laptopEvents = recordEvents(laptop);
    await laptop.auth.signOut();
    expect(laptopEvents).toEqual(['signed_out']);
    expect(await laptop.auth.getSession()).toBeNull();
  });

  it('profile, TOTP second factor (MfaRequiredError, verifyMfa) and account deletion through the SDK', async () => {
    const email = uniqueEmail('sdk-mfa');
    const client = sdk.app();
    await client.auth.signUp({ email, password: PASSWORD });
    expect(await client.auth.updateProfile({ displayName: 'Sdk User', userMetadata: { theme: 'dark' } })).toMatchObject({ displayName: 'Sdk User' });
    const enrolment = await client.auth.enrollTotp();
    expect(enrolment.qrCode).toMatch(/^data:image\/png/);
    const codes = await client.auth.confirmTotp(await generate({ secret: enrolment.secret }));
    expect(codes).toHaveLength(10);
    expect((await client.auth.mfaStatus()).totp.enabled).toBe(true);

    const other = sdk.app();
    const challenge = await other.auth.signInWithPassword({ email, password: PASSWORD }).then(
      () => undefined,
      (err: unknown) => (err instanceof MfaRequiredError ? err.challenge : undefined),
    );
    expect(challenge?.factors).toEqual(['totp']);
    const session = await other.auth.verifyMfa(challenge!.challengeToken, codes[0]!);
    expect(session.user.displayName).toBe('Sdk User');
    await other.auth.deleteAccount(PASSWORD);
    expect(await other.auth.getSession()).toBeNull();
    await expect(client.auth.getUser()).rejects.toMatchObject({ statusCode: 401 });
  });

  it('refreshes before the access token expires, once for concurrent calls', async () => {
    // The token lives 30 s; refreshing 29 s ahead makes it due one second after sign-in.
    const client = sdk.app({ auth: { refreshLeewayMs: 29_000 } });
    const events = recordEvents(client);
    const first = await client.auth.signUp({ email: uniqueEmail('sdk-refresh'), password: PASSWORD });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const users = await Promise.all(Array.from({ length: 5 }, () => client.auth.getUser()));
    expect(users.every((u) => u.id === first.user.id)).toBe(true);
    expect(events).toEqual(['signed_in', 'refreshed']);
    const now = await client.auth.getSession();
    expect(now!.accessToken).not.toBe(first.accessToken);
    expect(now!.refreshToken).not.toBe(first.refreshToken);
    // The server saw one refresh: a second one with the old token would have revoked the session.
    expect((await client.auth.listSessions()).length).toBe(1);
  });

  it('after a 401 on an expired token: refreshes once (shared by concurrent calls) and repeats the calls', async () => {
    const store = asyncStore();
    const seed = sdk.app({ storage: store });
    const session = await seed.auth.signUp({ email: uniqueEmail('sdk-expired'), password: PASSWORD });
    // The stored token has expired, though the client's clock thinks it is fresh (skew, sleep).
    store.items.set('selfbaas.session', JSON.stringify({ ...session, accessToken: expiredCopyOf(session.accessToken) }));

    const client = sdk.app({ storage: store }); // a restarted app: the session comes from the store
    const events = recordEvents(client);
    const results = await Promise.all(Array.from({ length: 4 }, () => client.auth.getUser()));
    expect(results.map((u) => u.id)).toEqual(Array(4).fill(session.user.id));
    expect(events).toEqual(['refreshed']);
    const stored = JSON.parse(store.items.get('selfbaas.session')!) as { accessToken: string };
    expect(stored.accessToken).toBe((await client.auth.getSession())!.accessToken);
  });

  it('without auto refresh, an expired token is an error the app sees', async () => {
    const store = asyncStore();
    const seed = sdk.app({ storage: store });
    const session = await seed.auth.signUp({ email: uniqueEmail('sdk-norefresh'), password: PASSWORD });
    store.items.set('selfbaas.session', JSON.stringify({ ...session, accessToken: expiredCopyOf(session.accessToken) }));
    const client = sdk.app({ storage: store, auth: { autoRefresh: false } });
    const err = await client.auth.getUser().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaasError);
    expect(err).toMatchObject({ statusCode: 401, code: 'INVALID_TOKEN' });
    expect((err as BaasError).requestId).toMatch(/.+/);
    // Refreshing by hand still works.
    expect(await client.auth.refresh()).not.toBeNull();
    expect((await client.auth.getUser()).id).toBe(session.user.id);
  });

  it('magic link: requests the email, signs in with its token', async () => {
    const email = uniqueEmail('sdk-magic');
    await sdk.app().auth.signUp({ email, password: PASSWORD });
    const client = sdk.app();
    await client.auth.requestMagicLink(email);
    // The request answers 202 before the email is written (the same work for known and
    // unknown addresses happens after the answer), so the message shows up a moment later.
    const findSummary = async () =>
      (await sdk.service.admin.email.messages({ to: email })).items.find((m) => m.subject.toLowerCase().includes('sign'));
    await expect.poll(findSummary, { timeout: 10_000, interval: 50 }).toBeDefined();
    const summary = await findSummary();
    const message = await sdk.service.admin.email.message(summary!.id);
    const token = /magic-link\?token=([A-Za-z0-9_-]+)/.exec(message.text ?? '')?.[1];
    expect(token, message.text ?? '').toBeDefined();
    const session = await client.auth.verifyMagicLink(token!);
    expect(session.user.email).toBe(email);
    await expect(client.auth.verifyMagicLink(token!)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('changes the password; wrong credentials and a taken email are BaasErrors with stable codes', async () => {
    const email = uniqueEmail('sdk-password');
    const client = sdk.app({ storage: localStorageStore() }); // Node has no localStorage: memory
    await client.auth.signUp({ email, password: PASSWORD });
    await client.auth.updatePassword(PASSWORD, 'another long password');
    await expect(sdk.app().auth.signInWithPassword({ email, password: PASSWORD })).rejects.toMatchObject({
      statusCode: 401,
      code: 'INVALID_CREDENTIALS',
    });
    await sdk.app().auth.signInWithPassword({ email, password: 'another long password' });
    await expect(sdk.app().auth.signUp({ email, password: PASSWORD })).rejects.toMatchObject({ statusCode: 409, code: 'EMAIL_TAKEN' });
    const invalid = (await sdk
      .app()
      .auth.signUp({ email: 'not an email', password: 'short' })
      .catch((e: unknown) => e)) as BaasError;
    expect(invalid).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(invalid.details?.map((d) => d.path).sort()).toEqual(['email', 'password']);
  });
});
