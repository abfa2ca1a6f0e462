import { JwtService } from '@nestjs/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '#libs/config';
import { TokenService } from './token.service.js';

const config = {
  JWT_SECRET: 'a-unit-test-secret-of-at-least-32-characters',
  JWT_ISSUER: 'baas',
  JWT_AUDIENCE: 'baas-api',
  JWT_ACCESS_TTL_SECONDS: 60,
} as AppConfig;
const claims = { sub: '00000000-0000-4000-8000-000000000001', sid: '00000000-0000-4000-8000-0000000000aa', email: 'a@example.test', roles: ['member'] };

describe('TokenService.verifyAccess', () => {
  afterEach(() => vi.useRealTimers());

  it('remembers a verified token until it expires, then refuses it', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-29T12:00:00Z') });
    const jwt = new JwtService({});
    const tokens = new TokenService(jwt, config);
    const token = await tokens.signAccess(claims);
    const verify = vi.spyOn(jwt, 'verifyAsync');

    const first = await tokens.verifyAccess(token);
    expect(first).toMatchObject({ ...claims, exp: Date.parse('2026-11-29T12:01:00Z') / 1000 });
    expect(await tokens.verifyAccess(token)).toBe(first);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(first)).toBe(true);

    vi.setSystemTime(new Date('2026-11-29T12:01:00.001Z'));
    expect(await tokens.verifyAccess(token)).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('never remembers an invalid token as valid', async () => {
    const tokens = new TokenService(new JwtService({}), config);
    const token = await tokens.signAccess(claims);
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await tokens.verifyAccess(forged)).toBeUndefined();
    expect(await tokens.verifyAccess(forged)).toBeUndefined();
    const other = new TokenService(new JwtService({}), { ...config, JWT_SECRET: 'another-unit-test-secret-of-32-characters!' });
    expect(await other.verifyAccess(token)).toBeUndefined();
    expect(await tokens.verifyAccess(token)).toMatchObject(claims);
  });
});
