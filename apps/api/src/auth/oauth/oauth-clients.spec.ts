import { describe, expect, it } from 'vitest';
import { githubProfile, issuerOf, profileFromClaims } from './oauth-clients.js';

describe('provider quirks', () => {
  it('reads email_verified as each provider states it', () => {
    expect(profileFromClaims('google', { sub: 'g', email: 'A@X.test', email_verified: true })).toMatchObject({ email: 'a@x.test', emailVerified: true });
    // Apple sends the string "true".
    expect(profileFromClaims('apple', { sub: 'a', email: 'a@privaterelay.appleid.com', email_verified: 'true' }).emailVerified).toBe(true);
    // Microsoft's `email` is not verified unless xms_edov says so.
    expect(profileFromClaims('microsoft', { sub: 'm', email: 'm@x.test', email_verified: true }).emailVerified).toBe(false);
    expect(profileFromClaims('microsoft', { sub: 'm', email: 'm@x.test', xms_edov: true }).emailVerified).toBe(true);
    expect(profileFromClaims('oidc', { sub: 'o', email: 'o@x.test' }).emailVerified).toBe(false);
    expect(profileFromClaims('oidc', { sub: 'o' })).toMatchObject({ email: null, emailVerified: false });
    expect(() => profileFromClaims('oidc', { email: 'x@x.test' })).toThrow();
  });

  it('GitHub: only a verified address counts, the primary one first', () => {
    expect(githubProfile({ id: 7, login: 'octo' }, [
      { email: 'old@x.test', primary: false, verified: true },
      { email: 'Main@X.test', primary: true, verified: true },
    ])).toEqual({ subject: '7', email: 'main@x.test', emailVerified: true, name: 'octo' });
    expect(githubProfile({ id: 7, name: 'Octo Cat' }, [{ email: 'p@x.test', primary: true, verified: false }])).toEqual({
      subject: '7',
      email: null,
      emailVerified: false,
      name: 'Octo Cat',
    });
  });

  it('issuer presets', () => {
    expect(issuerOf({ kind: 'google', issuer: null, options: {} })).toBe('https://accounts.google.com');
    expect(issuerOf({ kind: 'apple', issuer: null, options: {} })).toBe('https://appleid.apple.com');
    expect(issuerOf({ kind: 'microsoft', issuer: null, options: { tenant: 'contoso.onmicrosoft.com' } })).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0');
    expect(issuerOf({ kind: 'oidc', issuer: 'https://idp.example', options: {} })).toBe('https://idp.example');
    expect(issuerOf({ kind: 'github', issuer: null, options: {} })).toBeNull();
  });
});
