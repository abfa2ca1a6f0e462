import { createHash } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/** What one hosted page asks for and which api route it calls. */
interface PageSpec {
  title: string;
  intro: string;
  button: string;
  /** The api route, relative to the page (so a path prefix in PUBLIC_URL keeps working). */
  action: string;
  /** Ask for a new password (twice) before calling the route. */
  password?: boolean;
  done: string;
}

/**
 * The pages behind the links in emails. Each is served at the path the email links to
 * (`APP_URL/auth/...`, APP_URL defaulting to PUBLIC_URL), so the links work out of the box;
 * an app that sets APP_URL to its own site serves these paths itself.
 */
export const HOSTED_PAGES: Record<string, PageSpec> = {
  '/auth/verify-email': {
    title: 'Confirm your email',
    intro: 'Confirm that this email address is yours.',
    button: 'Confirm my email',
    action: '../v1/auth/verify-email',
    done: 'Your email address is confirmed. You can close this page.',
  },
  '/auth/reset-password': {
    title: 'Choose a new password',
    intro: 'Enter a new password for your account (at least 8 characters).',
    button: 'Set the new password',
    action: '../v1/auth/password-reset',
    password: true,
    done: 'Your password is changed and every session was signed out. Sign in with the new password.',
  },
  '/auth/magic-link': {
    title: 'Sign in',
    intro: 'Continue to sign in with this link.',
    button: 'Sign in',
    action: '../v1/auth/magic-link/verify',
    done: 'You are signed in. You can return to the app.',
  },
  '/auth/confirm-email-change': {
    title: 'Confirm your new email',
    intro: 'Confirm that this new email address is yours; it then replaces the old one.',
    button: 'Confirm the new address',
    action: '../v1/auth/email-change/confirm',
    done: 'Your new email address is confirmed.',
  },
};

/**
 * The page script. It takes the token out of the address bar at once (history, screenshots),
 * does nothing on load (mail scanners open links), and posts the token only on a click.
 * A sign-in that names a redirect (checked against AUTH_REDIRECT_URLS by the api when the link
 * was requested) goes there with the tokens in the fragment, which browsers never send.
 */
const SCRIPT = `
const spec = JSON.parse(document.getElementById('spec').textContent);
const params = new URLSearchParams(location.search);
const token = params.get('token');
history.replaceState(null, '', location.pathname);
const form = document.getElementById('form');
const status = document.getElementById('status');
const show = (text) => { status.textContent = text; };
if (!token) { form.hidden = true; show('This link is incomplete. Open the link from the email again.'); }
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { token };
  if (spec.password) {
    const a = document.getElementById('password').value, b = document.getElementById('confirm').value;
    if (a !== b) return show('The two passwords differ.');
    body.password = a;
  }
  form.querySelector('button').disabled = true;
  try {
    const res = await fetch(spec.action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { form.querySelector('button').disabled = false; return show(data.message || 'Something went wrong.'); }
    form.hidden = true;
    if (data.mfaRequired) {
      // The account has a second factor: the app asks for the code (POST /v1/auth/mfa/verify).
      if (data.redirectTo) { location.replace(data.redirectTo + '#' + new URLSearchParams({ mfa_challenge: data.challengeToken }).toString()); return; }
      return show('Your account has a second factor: continue signing in from the app.');
    }
    if (data.redirectTo && data.accessToken) {
      const fragment = new URLSearchParams({ access_token: data.accessToken, refresh_token: data.refreshToken, expires_in: String(data.expiresIn), token_type: 'bearer' });
      location.replace(data.redirectTo + '#' + fragment.toString());
      return;
    }
    show(spec.done);
  } catch { form.querySelector('button').disabled = false; show('The server could not be reached; try again.'); }
});
`;

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1rem;font-size:1rem}#status{margin-top:1rem}`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Headers of every hosted page: nothing but its own script and style, no referrer, no cache. */
export const HOSTED_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'`,
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderHostedPage(spec: PageSpec): string {
  const fields = spec.password
    ? `<label for="password">New password</label><input id="password" type="password" autocomplete="new-password" minlength="8" maxlength="256" required>
<label for="confirm">Repeat it</label><input id="confirm" type="password" autocomplete="new-password" minlength="8" maxlength="256" required>`
    : '';
  // JSON inside <script type="application/json">: "<" is escaped so the data cannot close the tag.
  const data = JSON.stringify(spec).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(spec.title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(spec.title)}</h1><p>${escapeHtml(spec.intro)}</p>
<form id="form">${fields}<button type="submit">${escapeHtml(spec.button)}</button></form><p id="status" role="status"></p>
<script type="application/json" id="spec">${data}</script><script>${SCRIPT}</script></body></html>`;
}

/** `GET /auth/*` pages for the email links; plain Fastify routes outside `/v1` (as the dashboard). */
@Injectable()
export class HostedPagesRoute implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Not awaited, for the reason given in signed-upload.route.ts.
    void fastify.register(async (scope) => {
      for (const [path, spec] of Object.entries(HOSTED_PAGES)) {
        const html = renderHostedPage(spec);
        scope.get(path, async (_request, reply) => reply.headers(HOSTED_PAGE_HEADERS).send(html));
      }
    });
  }
}
