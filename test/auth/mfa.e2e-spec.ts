import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generate } from 'otplib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaService } from '#libs/database';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { subscribe } from '../support/subscribers.js';
import { bearer, createUser, TEST_PASSWORD, type TestUser } from '../support/users.js';

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { amr?: string[]; aal?: string };
/** The code of the next 30 s step: a fresh code the factor has not seen yet. */
const codeAt = (secret: string, offsetSteps = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offsetSteps * 30 });

/** TOTP second factor with generated codes, over HTTP against the real app. */
describe('TOTP MFA', () => {
  let app: NestFastifyApplication;
  let prisma: PrismaService;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startApi(testConfig());
    prisma = app.get(PrismaService);
  });
  afterAll(async () => {
    await app.close();
  });

  /** A user with a confirmed TOTP factor; its secret and recovery codes. */
  async function enrolled(): Promise<{ user: TestUser; secret: string; recoveryCodes: string[] }> {
    const user = await createUser(app);
    const enrol = await http().post('/v1/auth/mfa/totp').set(bearer(user)).expect(200);
    const secret = enrol.body.secret as string;
    const confirm = await http().post('/v1/auth/mfa/totp/confirm').set(bearer(user)).send({ code: await codeAt(secret) }).expect(200);
    return { user, secret, recoveryCodes: confirm.body.recoveryCodes as string[] };
  }

  it('enrol gives an otpauth URL and a QR code; a first code confirms; recovery codes are shown once and stored hashed', async () => {
    await subscribe(app, { type: 'auth', events: ['mfa_enrolled'] });
    const user = await createUser(app);
    const enrol = await http().post('/v1/auth/mfa/totp').set(bearer(user)).expect(200);
    expect(enrol.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\/.+\?.*secret=[A-Z2-7]+/);
    expect(enrol.body.otpauthUrl).toContain(encodeURIComponent(user.email));
    expect(enrol.body.qrCode).toMatch(/^data:image\/png;base64,/);
    // Not yet enabled: sign-in still answers tokens.
    expect((await http().get('/v1/auth/mfa').set(bearer(user)).expect(200)).body).toEqual({ totp: { enabled: false, pending: true }, recoveryCodesLeft: 0 });
    const wrong = await http().post('/v1/auth/mfa/totp/confirm').set(bearer(user)).send({ code: '000000' }).expect(401);
    expect(wrong.body.code).toBe('MFA_CODE_INVALID');
    const confirm = await http().post('/v1/auth/mfa/totp/confirm').set(bearer(user)).send({ code: await codeAt(enrol.body.secret as string) }).expect(200);
    const codes = confirm.body.recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const stored = await prisma.mfaRecoveryCode.findMany({ where: { userId: user.id } });
    expect(stored.map((r) => r.codeHash)).not.toContain(codes[0]);
    const factor = await prisma.mfaFactor.findUniqueOrThrow({ where: { userId: user.id } });
    expect(factor.secret).not.toContain(enrol.body.secret as string);
    expect((await http().get('/v1/auth/mfa').set(bearer(user)).expect(200)).body).toEqual({ totp: { enabled: true, pending: false }, recoveryCodesLeft: 10 });
    // Enrolling again while enabled is refused.
    expect((await http().post('/v1/auth/mfa/totp').set(bearer(user)).expect(409)).body.code).toBe('MFA_ALREADY_ENABLED');
    const events = await prisma.outboxEvent.findMany({ where: { type: 'auth.mfa' } });
    expect(events.map((e) => e.payload)).toContainEqual({ operation: 'mfa_enrolled', userId: user.id, factor: 'totp' });
  });

  it('sign-in then answers a challenge, not tokens; the code turns it into an aal2 session', async () => {
    const { user, secret } = await enrolled();
    const login = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
    expect(login.body).toMatchObject({ mfaRequired: true, factors: ['totp'] });
    expect(login.body.accessToken).toBeUndefined();
    const verified = await http().post('/v1/auth/mfa/verify').send({ challengeToken: login.body.challengeToken, code: await codeAt(secret, 1) }).expect(200);
    expect(claims(verified.body.accessToken as string)).toMatchObject({ aal: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    // The challenge is spent.
    const again = await http().post('/v1/auth/mfa/verify').send({ challengeToken: login.body.challengeToken, code: await codeAt(secret, 1) }).expect(400);
    expect(again.body.code).toBe('MFA_CHALLENGE_INVALID');
    // A refresh keeps aal2.
    const refreshed = await http().post('/v1/auth/refresh').send({ refreshToken: verified.body.refreshToken }).expect(200);
    expect(claims(refreshed.body.accessToken as string).aal).toBe('aal2');
    // A one-factor session says aal1.
    const plain = await createUser(app);
    expect(claims(plain.accessToken)).toMatchObject({ aal: 'aal1', amr: ['pwd'] });
  });

  it('a code is accepted once: the same code again (within its window) is refused', async () => {
    const { user, secret } = await enrolled();
    const code = await codeAt(secret, 1);
    const first = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
    await http().post('/v1/auth/mfa/verify').send({ challengeToken: first.body.challengeToken, code }).expect(200);
    const second = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
    const reused = await http().post('/v1/auth/mfa/verify').send({ challengeToken: second.body.challengeToken, code }).expect(401);
    expect(reused.body.code).toBe('MFA_CODE_INVALID');
    // A code of an earlier step than one already accepted is refused too.
    const older = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
    await http().post('/v1/auth/mfa/verify').send({ challengeToken: older.body.challengeToken, code: await codeAt(secret, 0) }).expect(401);
  });

  it('the same fresh code sent twice at the same moment opens one session', async () => {
    const { user, secret } = await enrolled();
    const code = await codeAt(secret, 1);
    const [a, b] = await Promise.all([1, 2].map(() => http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD })));
    const results = await Promise.all([a!, b!].map((l) => http().post('/v1/auth/mfa/verify').send({ challengeToken: l.body.challengeToken, code })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('recovery codes work once each', async () => {
    const { user, recoveryCodes } = await enrolled();
    const login = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
    const ok = await http().post('/v1/auth/mfa/verify').send({ challengeToken: login.body.challengeToken, code: recoveryCodes[0]!.toUpperCase() }).expect(200);
    expect(claims(ok.body.accessToken as string).amr).toEqual(['pwd', 'recovery', 'mfa']);
    const login2 = await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
    await http().post('/v1/auth/mfa/verify').send({ challengeToken: login2.body.challengeToken, code: recoveryCodes[0] }).expect(401);
    expect((await http().get('/v1/auth/mfa').set(bearer(ok.body)).expect(200)).body.recoveryCodesLeft).toBe(9);
  });

  it('magic links owe the second factor too (no bypass)', async () => {
    const { user } = await enrolled();
    // A magic-link token, made as the email flow makes it.
    const { hashToken } = await import('../../apps/api/src/auth/token.service.js');
    const token = `ml_${Date.now()}_0123456789abcdef`;
    await prisma.authToken.create({ data: { userId: user.id, purpose: 'magic_link', tokenHash: hashToken(token), expiresAt: new Date(Date.now() + 60_000) } });
    const res = await http().post('/v1/auth/magic-link/verify').send({ token }).expect(200);
    expect(res.body).toMatchObject({ mfaRequired: true });
    expect(res.body.accessToken).toBeUndefined();
  });

  it('wrong codes are rate-limited per user (brute force)', async () => {
    const limited = await startApi(testConfig({ AUTH_RATE_LIMIT_MAX: '3', QUEUE_PREFIX: `${testConfig().QUEUE_PREFIX}_mfa_rl` }));
    try {
      const server = limited.getHttpServer();
      const user = await createUser(limited);
      const enrol = await request(server).post('/v1/auth/mfa/totp').set(bearer(user)).expect(200);
      await request(server).post('/v1/auth/mfa/totp/confirm').set(bearer(user)).send({ code: await codeAt(enrol.body.secret as string) }).expect(200);
      const login = await request(server).post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await request(server).post('/v1/auth/mfa/verify').send({ challengeToken: login.body.challengeToken, code: String(100000 + i) })).status);
      }
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
      expect(statuses.slice(3)).toEqual([429, 429]);
      // Even the right code waits now.
      const right = await request(server).post('/v1/auth/mfa/verify').send({ challengeToken: login.body.challengeToken, code: await codeAt(enrol.body.secret as string, 1) });
      expect(right.status).toBe(429);
      expect(right.body.code).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });

  it('disabling needs a code; an admin can reset a user\'s factor', async () => {
    const { user, secret } = await enrolled();
    await http().delete('/v1/auth/mfa/totp').set(bearer(user)).send({ code: '123456' }).expect(401);
    await http().delete('/v1/auth/mfa/totp').set(bearer(user)).send({ code: await codeAt(secret, 1) }).expect(204);
    expect((await http().post('/v1/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200)).body.accessToken).toBeTruthy();

    const other = await enrolled();
    const notAdmin = await createUser(app);
    await http().delete(`/v1/admin/users/${other.user.id}/mfa`).set(bearer(notAdmin)).expect(403);
    await http().delete(`/v1/admin/users/${other.user.id}/mfa`).set('x-api-key', SERVICE_KEY).expect(204);
    await http().delete(`/v1/admin/users/${other.user.id}/mfa`).set('x-api-key', SERVICE_KEY).expect(404);
    expect((await http().post('/v1/auth/login').send({ email: other.user.email, password: TEST_PASSWORD }).expect(200)).body.accessToken).toBeTruthy();
    expect(await prisma.auditLog.count({ where: { userId: other.user.id, event: 'mfa.reset' } })).toBe(1);
  });

  it('bad input gets clear 4xx codes', async () => {
    const user = await createUser(app);
    expect((await http().post('/v1/auth/mfa/totp/confirm').set(bearer(user)).send({ code: '123456' }).expect(409)).body.code).toBe('MFA_NOT_ENROLLED');
    expect((await http().delete('/v1/auth/mfa/totp').set(bearer(user)).send({ code: '123456' }).expect(409)).body.code).toBe('MFA_NOT_ENABLED');
    expect((await http().post('/v1/auth/mfa/verify').send({ challengeToken: 'mc_unknown0123456789abcdefgh', code: '123456' }).expect(400)).body.code).toBe('MFA_CHALLENGE_INVALID');
    for (const body of [{ challengeToken: 'x', code: '1' }, { code: '123456' }, { challengeToken: 'mc_unknown0123456789abcdefgh', code: { $gt: '' } }]) {
      expect((await http().post('/v1/auth/mfa/verify').send(body).expect(400)).body.code).toBe('VALIDATION_FAILED');
    }
    await http().post('/v1/auth/mfa/totp').set('x-api-key', SERVICE_KEY).expect(403);
  });
});
