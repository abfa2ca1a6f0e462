import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { freePort } from '../support/net.js';

const APP_CALLBACK = 'https://app.example.test/auth/callback';

/**
 * The GitHub preset (plain OAuth2 through arctic, profile from GitHub's API). No traffic may
 * leave this machine, so GitHub itself is played by a stand-in: the process's fetch answers
 * for github.com and api.github.com (arctic and the api call the global fetch), and passes
 * everything else (the api on 127.0.0.1) through.
 */
describe('sign in with GitHub (plain OAuth2 via arctic)', () => {
  const realFetch = globalThis.fetch;
  let app: NestFastifyApplication;
  let api: string;
  let githubUser: { id: number; login: string; name: string | null; emails: { email: string; primary: boolean; verified: boolean }[] };
  const issuedCodes = new Set<string>();
  const tokenRequests: URLSearchParams[] = [];

  const gitHub = async (url: URL, init: RequestInit | undefined, request: Request | undefined): Promise<Response> => {
    if (url.host === 'github.com' && url.pathname === '/login/oauth/authorize') {
      // The user approves: back to the redirect URI with a code and the state, as GitHub does.
      const code = `gh-${randomUUID()}`;
      issuedCodes.add(code);
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state')!);
      return new Response(null, { status: 302, headers: { location: back.toString() } });
    }
    if (url.host === 'github.com' && url.pathname === '/login/oauth/access_token') {
      const body = new URLSearchParams(request ? await request.text() : typeof init?.body === 'string' ? init.body : '');
      tokenRequests.push(body);
      const code = body.get('code') ?? '';
      // GitHub answers a bad code with 200 and an error body.
      if (!issuedCodes.delete(code)) return Response.json({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
      return Response.json({ access_token: 'gho_test', token_type: 'bearer', scope: 'read:user,user:email' });
    }
    if (url.host === 'api.github.com' && url.pathname === '/user') return Response.json({ id: githubUser.id, login: githubUser.login, name: githubUser.name });
    if (url.host === 'api.github.com' && url.pathname === '/user/emails') return Response.json(githubUser.emails);
    return new Response('not found', { status: 404 });
  };

  beforeAll(async () => {
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const request = input instanceof Request ? input : undefined;
      const url = new URL(request ? request.url : input instanceof URL ? input.href : input);
      if (url.host === 'github.com' || url.host === 'api.github.com') return gitHub(url, init, request);
      return realFetch(input, init);
    });
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    app = await startApi(testConfig({ PUBLIC_URL: api, AUTH_REDIRECT_URLS: APP_CALLBACK }));
    await app.listen({ port, host: '127.0.0.1' });
    const put = await realFetch(`${api}/v1/admin/auth-providers/github`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-api-key': SERVICE_KEY },
      body: JSON.stringify({ kind: 'github', clientId: 'Iv1.testclient', clientSecret: 'github-secret' }),
    });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await app.close();
  });

  /** authorize → "GitHub" → callback (with the flow cookie) → the app's redirect. */
  async function signIn(): Promise<URL> {
    const start = await realFetch(`${api}/v1/auth/oauth/github/authorize?redirectTo=${encodeURIComponent(APP_CALLBACK)}`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const cookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const atGitHub = new URL(start.headers.get('location')!);
    expect(atGitHub.origin).toBe('https://github.com');
    expect(atGitHub.searchParams.get('redirect_uri')).toBe(`${api}/v1/auth/oauth/github/callback`);
    const approved = await gitHub(atGitHub, undefined, undefined);
    const callback = await realFetch(approved.headers.get('location')!, { redirect: 'manual', headers: { cookie } });
    expect(callback.status).toBe(302);
    return new URL(callback.headers.get('location')!);
  }

  it('a GitHub user with a verified primary email signs up; the client secret authenticates the token request', async () => {
    githubUser = { id: 4242, login: 'octo', name: 'Octo Cat', emails: [{ email: `octo-${randomUUID()}@example.test`, primary: true, verified: true }] };
    const landing = await signIn();
    expect(landing.searchParams.get('error'), landing.searchParams.get('error_description') ?? '').toBeNull();
    const session = await realFetch(`${api}/v1/auth/oauth/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: landing.searchParams.get('code') }),
    });
    const body = (await session.json()) as { user: { email: string; emailVerified: boolean; displayName: string } };
    expect(session.status).toBe(200);
    expect(body.user).toMatchObject({ email: githubUser.emails[0]!.email, emailVerified: true, displayName: 'Octo Cat' });
    expect(tokenRequests.at(-1)?.get('code')).toBeTruthy();
  });

  it('no verified email at GitHub: OAUTH_EMAIL_REQUIRED; a refused code: OAUTH_CODE_INVALID', async () => {
    githubUser = { id: 777, login: 'ghost', name: null, emails: [{ email: 'unverified@example.test', primary: true, verified: false }] };
    expect((await signIn()).searchParams.get('error')).toBe('OAUTH_EMAIL_REQUIRED');
    // GitHub refuses the code (expired or used): the next flow's code is dropped before the exchange.
    const realAdd = issuedCodes.add.bind(issuedCodes);
    issuedCodes.add = () => issuedCodes;
    try {
      expect((await signIn()).searchParams.get('error')).toBe('OAUTH_CODE_INVALID');
    } finally {
      issuedCodes.add = realAdd;
    }
  });
});
