import { describe, expect, it } from 'vitest';
import { mintRunToken, verifyRunToken } from './run-token.js';

describe('run tokens', () => {
  const secret = 'a-secret-of-at-least-32-characters-0123456789';
  const claims = { run: 'r1', fn: 'f1', exp: Date.now() + 60_000 };

  it('verifies what was minted, with the same claims', () => {
    expect(verifyRunToken(secret, mintRunToken(secret, claims))).toEqual(claims);
    const asUser = { ...claims, as: { userId: 'u1', sessionId: 's1' } };
    expect(verifyRunToken(secret, mintRunToken(secret, asUser))).toEqual(asUser);
  });

  it('refuses an expired token, another secret, a changed payload and malformed input', () => {
    expect(verifyRunToken(secret, mintRunToken(secret, { ...claims, exp: Date.now() - 1 }))).toBeUndefined();
    expect(verifyRunToken('another-secret-of-at-least-32-characters-01', mintRunToken(secret, claims))).toBeUndefined();
    const [p, payload, sig] = mintRunToken(secret, claims).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, fn: 'other' })).toString('base64url');
    expect(verifyRunToken(secret, `${p}.${forged}.${sig}`)).toBeUndefined();
    for (const bad of ['', 'frt1', 'frt1..', `frt1.${payload}`, `frt2.${payload}.${sig}`, `frt1.${payload}.${sig}.x`]) {
      expect(verifyRunToken(secret, bad)).toBeUndefined();
    }
  });
});
