import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { freePort } from '../support/net.js';
import { Browser } from '../support/oauth-browser.js';
import { type TestAccount, TestOidcProvider } from '../support/oidc-provider.js';

const APP_CALLBACK = 'https://app.example.test/auth/callback';
const CLIENT = { client_id: 'baas-form', client_secret: 'provider-client-secret-456' };
const APPLE = { client_id: 'com.example.web', client_secret: 'only-the-test-provider-knows-this' };
const appleKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('response_mode=form_post (Apple\'s web answer) against a real oidc-provider', () => {
  const idp = new TestOidcProvider();
  let app: NestFastifyApplication;
  let api: string;
  const service = { 'x-api-key': SERVICE_KEY };
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { code?: string } };
  };
  const start = `/v1/auth/oauth/formy/authorize?redirectTo=${encodeURIComponent(APP_CALLBACK)}`;
  const account = (overrides: Partial<TestAccount> = {}): TestAccount => ({
    sub: `sub-${randomUUID()}`,
    email: `form-${randomUUID()}@example.test`,
    email_verified: true,
    ...overrides,
  });

  beforeAll(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    idp.appleClients.set(APPLE.client_id, { publicKey: appleKey.publicKey, teamId: 'ABCDE12345', secret: APPLE.client_secret });
    await idp.start([
      { ...CLIENT, redirect_uris: [`${api}/v1/auth/oauth/formy/callback`] },
      { ...APPLE, redirect_uris: [`${api}/v1/auth/oauth/apple-web/callback`] },
    ]);
    app = await startApi(testConfig({ PUBLIC_URL: api, AUTH_REDIRECT_URLS: APP_CALLBACK, AUTH_OIDC_ALLOW_INSECURE: 'true' }));
    await app.listen({ port, host: '127.0.0.1' });
    const put = await call(
      'PUT',
      '/v1/admin/auth-providers/formy',
      { kind: 'oidc', issuer: idp.issuer, clientId: CLIENT.client_id, clientSecret: CLIENT.client_secret, options: { responseMode: 'form_post' } },
      service,
    );
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.options).toEqual({ responseMode: 'form_post' });
  });
  afterAll(async () => {
    await app.close();
    await idp.stop();
  });

  /** The flow up to the provider's form POST to the api (not sent yet): its fields. */
  async function formOf(browser: Browser, who: TestAccount): Promise<Record<string, string>> {
    idp.nextAccount = who;
    browser.holdForms = true;
    const { url } = await browser.follow(`${api}${start}`, APP_CALLBACK);
    browser.holdForms = false;
    expect(url).toBe(`${api}/v1/auth/oauth/formy/callback`);
    const post = browser.formPosts.at(-1);
    expect(post?.action).toBe(`${api}/v1/auth/oauth/formy/callback`);
    return post!.fields;
  }

  it('a new user signs up: the provider POSTs a form (no cookie sent), a 303 to the GET callback checks the cookie, the app gets its code', async () => {
    const who = account();
    idp.nextAccount = who;
    const browser = new Browser();
    browser.extraFormFields = { user: JSON.stringify({ name: { firstName: 'Ada', lastName: 'Lovelace' }, email: 'spoofed@evil.example' }) };
    const { url, hops } = await browser.follow(`${api}${start}`, APP_CALLBACK);
    // The provider really answered with a form (code and state in the body, not the URL).
    expect(hops).toContain(`POST ${api}/v1/auth/oauth/formy/callback`);
    expect(browser.formPosts[0]!.fields).toMatchObject({ code: expect.any(String), state: expect.any(String) });
    expect(new URL(hops.find((h) => h.startsWith(`${api}/v1/auth/oauth/formy/callback?`))!).searchParams.get('state')).toBe(browser.formPosts[0]!.fields.state);
    const landing = new URL(url);
    expect(landing.searchParams.get('error'), landing.searchParams.get('error_description') ?? '').toBeNull();
    const session = await call('POST', '/v1/auth/oauth/exchange', { code: landing.searchParams.get('code') });
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    // The email comes from the verified ID token, never from the unsigned `user` field; the name from it.
    expect(session.body.user).toMatchObject({ email: who.email, emailVerified: true, displayName: 'Ada Lovelace' });
    // The same account again (no `user` field on later sign-ins): the same user.
    const again = new Browser();
    idp.nextAccount = who;
    const second = new URL((await again.follow(`${api}${start}`, APP_CALLBACK)).url);
    const session2 = await call('POST', '/v1/auth/oauth/exchange', { code: second.searchParams.get('code') });
    expect((session2.body.user as { id: string }).id).toBe((session.body.user as { id: string }).id);
  });

  it('a malformed `user` field is ignored; the name then comes from the ID token or stays empty', async () => {
    const browser = new Browser();
    browser.extraFormFields = { user: '{not json' };
    idp.nextAccount = account();
    const landing = new URL((await browser.follow(`${api}${start}`, APP_CALLBACK)).url);
    const session = await call('POST', '/v1/auth/oauth/exchange', { code: landing.searchParams.get('code') });
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    expect((session.body.user as { displayName: string | null }).displayName).toBeNull();
  });

  it('forged state, another browser and a replay are refused with OAUTH_STATE_INVALID', async () => {
    const browser = new Browser();
    const fields = await formOf(browser, account());
    // A forged state: the POST only hops, the GET refuses it.
    const forged = await browser.postForm(`${api}/v1/auth/oauth/formy/callback`, { ...fields, state: 'forged-state-value-0123456789' });
    expect(forged.status).toBe(303);
    const refused = await browser.get(new URL(forged.headers.get('location')!, api).toString());
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe('OAUTH_STATE_INVALID');
    // The genuine form replayed into another browser (no flow cookie): refused, the state spent.
    const hop = await new Browser().postForm(`${api}/v1/auth/oauth/formy/callback`, fields);
    const location = new URL(hop.headers.get('location')!, api).toString();
    expect(location.startsWith(`${api}/v1/auth/oauth/formy/callback?`)).toBe(true);
    const stolen = await new Browser().get(location);
    expect(stolen.status).toBe(400);
    expect(((await stolen.json()) as { code: string }).code).toBe('OAUTH_STATE_INVALID');
    // Now even the right browser finds it spent.
    const late = await browser.get(location);
    expect(late.status).toBe(400);
  });

  it('a provider error in the form is passed on as error=OAUTH_DENIED', async () => {
    const browser = new Browser();
    const fields = await formOf(browser, account());
    const hop = await browser.postForm(`${api}/v1/auth/oauth/formy/callback`, { state: fields.state!, error: 'access_denied' });
    const res = await browser.get(new URL(hop.headers.get('location')!, api).toString());
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('OAUTH_DENIED');
  });

  it('only the callback takes a form body: JSON there and forms elsewhere are 415; oversized fields 400', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const path of ['/v1/auth/oauth/exchange', '/v1/auth/signin', '/v1/auth/oauth/formy/id-token']) {
      const res = await call('POST', path, 'code=x&email=a@b.c', form);
      expect(res.status, path).toBe(415);
      expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const json = await call('POST', '/v1/auth/oauth/formy/callback', { code: 'x', state: 'y' });
    expect(json.status).toBe(415);
    expect(json.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const long = await call('POST', '/v1/auth/oauth/formy/callback', `state=${'s'.repeat(300)}`, form);
    expect(long.status).toBe(400);
    expect(long.body.code).toBe('VALIDATION_FAILED');
    const badProvider = await call('POST', '/v1/auth/oauth/NOPE!/callback', 'state=x', form);
    expect(badProvider.status).toBe(400);
  });

  it('the Apple preset: openid email name with form_post; a new user signs up with the email from the ID token and the name from `user`', async () => {
    const pem = appleKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const put = await call('PUT', '/v1/admin/auth-providers/apple-web', { kind: 'apple', issuer: idp.issuer, clientId: APPLE.client_id, clientSecret: pem, options: { teamId: 'ABCDE12345', keyId: 'KEY1234567' } }, service);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const appleStart = `${api}/v1/auth/oauth/apple-web/authorize?redirectTo=${encodeURIComponent(APP_CALLBACK)}`;
    const res = await new Browser().get(appleStart);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(to.searchParams.get('response_mode')).toBe('form_post');
    expect(to.searchParams.get('scope')).toBe('openid email name');
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    // The whole flow: Apple's first answer carries `user`; email_verified as Apple states it.
    const who = account({ email: `apple-${randomUUID()}@privaterelay.appleid.com` });
    idp.nextAccount = who;
    const browser = new Browser();
    browser.extraFormFields = { user: JSON.stringify({ name: { firstName: 'Grace', lastName: 'Hopper' }, email: who.email }) };
    const { url, hops } = await browser.follow(appleStart, APP_CALLBACK);
    expect(hops).toContain(`POST ${api}/v1/auth/oauth/apple-web/callback`);
    const landing = new URL(url);
    expect(landing.searchParams.get('error'), landing.searchParams.get('error_description') ?? '').toBeNull();
    const session = await call('POST', '/v1/auth/oauth/exchange', { code: landing.searchParams.get('code') });
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    expect(session.body.user).toMatchObject({ email: who.email, emailVerified: true, displayName: 'Grace Hopper' });
    // GitHub cannot answer with a form.
    const gh = await call('PUT', '/v1/admin/auth-providers/gh', { kind: 'github', clientId: 'x', options: { responseMode: 'form_post' } }, service);
    expect(gh.status).toBe(400);
  });
});
