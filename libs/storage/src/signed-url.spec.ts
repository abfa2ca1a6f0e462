import { describe, expect, it } from 'vitest';
import { UrlSigner } from './signed-url.js';

const claims = { method: 'GET' as const, key: 'b/0b9c0d2e', exp: Math.floor(Date.now() / 1000) + 60, contentType: 'image/png' };

describe('UrlSigner', () => {
  const signer = new UrlSigner('a-secret-of-at-least-32-characters-long');

  it('verifies its own tokens and returns their claims', () => {
    expect(signer.verify(signer.sign(claims))).toEqual(claims);
  });

  it('refuses tokens that are expired, tampered, from another secret, or malformed', () => {
    const token = signer.sign(claims);
    expect(signer.verify(signer.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 1 }))).toBeUndefined();
    expect(signer.verify(token, (claims.exp + 1) * 1000)).toBeUndefined();
    const [body, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims, key: 'other/key' })).toString('base64url');
    expect(signer.verify(`${forged}.${mac}`)).toBeUndefined();
    expect(signer.verify(`${body}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`)).toBeUndefined();
    expect(new UrlSigner('another-secret-of-at-least-32-characters').verify(token)).toBeUndefined();
    for (const bad of ['', 'x', `${body}.`, `.${mac}`, `${body}.${mac}.x`, 'a'.repeat(5000)]) expect(signer.verify(bad)).toBeUndefined();
  });

  it('refuses a well-signed token whose claims have the wrong shape', () => {
    // Signed by the same key but not claims this code would ever produce.
    const raw = new UrlSigner('a-secret-of-at-least-32-characters-long') as unknown as { sign(c: unknown): string };
    expect(signer.verify(raw.sign({ method: 'DELETE', key: 'b/x', exp: claims.exp }))).toBeUndefined();
    expect(signer.verify(raw.sign({ method: 'GET', key: 1, exp: claims.exp }))).toBeUndefined();
  });
});
