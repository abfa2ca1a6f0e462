import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import type { FastifyRequest } from 'fastify';
import { vi } from 'vitest';
import { TokenService } from '../../apps/api/src/auth/token.service.js';
import { GatewayRateLimiter, type RateDecision } from '../../apps/api/src/gateway/rate-limit.service.js';
import { deleteKeys } from '../support/redis.js';
import { bearer, createUser, type TestUser } from '../support/users.js';

/**
 * Two api instances (each with its own Redis connection) sharing one Redis: every limit
 * must hold across both. Requests alternate between them. Clients are told apart by
 * X-Forwarded-For (TRUST_PROXY=true), so each test has addresses of its own.
 */
describe('rate limits shared by two api instances', () => {
  const prefix = `${inject('queuePrefix')}-rl`;
  let a: NestFastifyApplication;
  let b: NestFastifyApplication;
  let user1: TestUser;
  let user2: TestUser;
  let key1: string;
  let key2: string;
  const config = () =>
    testConfig({
      QUEUE_PREFIX: prefix,
      TRUST_PROXY: 'true',
      RATE_LIMIT_READS: '4/5',
      RATE_LIMIT_WRITES: '2/5',
      RATE_LIMIT_AUTH: '100000/60',
    });
  let n = 0;
  /** Alternates between the two instances. */
  const api = () => request((n++ % 2 === 0 ? a : b).getHttpServer());
  const ip = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
  const read = (headers: Record<string, string>) => api().get('/v1/collections/nothing_here/documents').set(headers);

  beforeAll(async () => {
    [a, b] = await Promise.all([startApi(config()), startApi(config())]);
    [user1, user2] = await Promise.all([createUser(a), createUser(b)]);
    const k1 = await request(a.getHttpServer()).post('/v1/admin/api-keys').set('x-api-key', SERVICE_KEY).send({ name: 'k1' }).expect(201);
    const k2 = await request(b.getHttpServer()).post('/v1/admin/api-keys').set('x-api-key', SERVICE_KEY).send({ name: 'k2' }).expect(201);
    key1 = k1.body.key;
    key2 = k2.body.key;
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteKeys(inject('redisUrl'), `${prefix}*`);
  });

  /** Spends a caller's reads on alternating instances; returns the first refused answer. */
  async function exhaust(headers: Record<string, string>, limit = 4) {
    for (let i = 0; i < limit; i++) {
      const res = await read(headers);
      expect(res.status, `request ${i + 1}`).toBe(404);
      expect(res.headers['ratelimit-limit']).toBe(String(limit));
      expect(res.headers['ratelimit-remaining']).toBe(String(limit - 1 - i));
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);
      expect(res.headers['ratelimit-policy']).toBe(`${limit};w=5`);
    }
    const refused = await read(headers);
    expect(refused.status).toBe(429);
    return refused;
  }

  async function waitForReset(res: request.Response) {
    await new Promise((resolve) => setTimeout(resolve, Number(res.headers['retry-after']) * 1000 + 100));
  }

  it('limits anonymous callers per address, with 429 + Retry-After and the standard error body, then resets', async () => {
    const client = ip();
    const refused = await exhaust({ 'x-forwarded-for': client, origin: 'http://localhost:5173' });
    expect(refused.body).toEqual({ statusCode: 429, code: 'RATE_LIMITED', message: expect.any(String), requestId: expect.any(String) });
    expect(refused.headers['x-request-id']).toBe(refused.body.requestId);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    // A browser can read the refusal.
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    // The other instance refuses too: the count lives in Redis.
    expect((await read({ 'x-forwarded-for': client })).status).toBe(429);
    // Another address is not affected.
    expect((await read({ 'x-forwarded-for': ip() })).status).toBe(404);

    await waitForReset(refused);
    const again = await read({ 'x-forwarded-for': client });
    expect(again.status).toBe(404);
    expect(again.headers['ratelimit-remaining']).toBe('3');
  });

  it('limits each user on their own, wherever they call from', async () => {
    const refused = await exhaust({ ...bearer(user1), 'x-forwarded-for': ip() });
    // user1 is refused from any address; user2 and anonymous callers on user1's address are not.
    expect((await read({ ...bearer(user1), 'x-forwarded-for': ip() })).status).toBe(429);
    const other = await read({ ...bearer(user2), 'x-forwarded-for': ip() });
    expect(other.status).toBe(404);
    expect(other.headers['ratelimit-remaining']).toBe('3');
    await waitForReset(refused);
    expect((await read({ ...bearer(user1) })).status).toBe(404);
  });

  it('limits each API key on its own; the bootstrap service key is exempt', async () => {
    const refused = await exhaust({ 'x-api-key': key1, 'x-forwarded-for': ip() });
    expect((await read({ 'x-api-key': key1, 'x-forwarded-for': ip() })).status).toBe(429);
    expect((await read({ 'x-api-key': key2 })).status).toBe(404);
    for (let i = 0; i < 10; i++) {
      const res = await read({ 'x-api-key': SERVICE_KEY });
      expect(res.status).toBe(404);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    await waitForReset(refused);
    expect((await read({ 'x-api-key': key1 })).status).toBe(404);
  });

  it('counts invalid credentials against the address: made-up keys and tokens buy no fresh bucket', async () => {
    const client = ip();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const headers: Record<string, string> = i % 2 === 0 ? { 'x-api-key': `sk_${randomBytes(24).toString('base64url')}` } : { authorization: `Bearer x.${i}.y` };
      statuses.push((await read({ ...headers, 'x-forwarded-for': client })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
  });

  it('keeps groups apart: writes have their own budget', async () => {
    const client = ip();
    await exhaust({ 'x-forwarded-for': client });
    const write = () => api().post('/v1/collections/nothing_here/documents').set('x-forwarded-for', client).send({ a: 1 });
    const first = await write();
    expect(first.status).toBe(404);
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect((await write()).status).toBe(404);
    expect((await write()).status).toBe(429);
  });

  it('never limits health probes or CORS preflights', async () => {
    const client = ip();
    await exhaust({ 'x-forwarded-for': client });
    for (let i = 0; i < 6; i++) {
      expect((await api().get('/v1/health/live').set('x-forwarded-for', client)).status).toBe(200);
      const pre = await api()
        .options('/v1/collections/nothing_here/documents')
        .set({ 'x-forwarded-for': client, origin: 'http://localhost:5173', 'access-control-request-method': 'GET' });
      expect(pre.status).toBe(204);
    }
  });
});

describe('rate limits without TRUST_PROXY', () => {
  const prefix = `${inject('queuePrefix')}-rl2`;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApi(testConfig({ QUEUE_PREFIX: prefix, RATE_LIMIT_READS: '2/60', RATE_LIMIT_EXEMPT_SERVICE_KEY: 'false' }));
  });
  afterAll(async () => {
    await app.close();
    await deleteKeys(inject('redisUrl'), `${prefix}*`);
  });

  it('ignores X-Forwarded-For (a client cannot pick its address), and can limit the service key too', async () => {
    const server = app.getHttpServer();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await request(server).get('/v1/collections/nothing_here/documents').set('x-forwarded-for', `10.9.9.${i}`)).status);
    }
    expect(statuses).toEqual([404, 404, 429]);
    const service: number[] = [];
    for (let i = 0; i < 3; i++) {
      service.push((await request(server).get('/v1/collections/nothing_here/documents').set('x-api-key', SERVICE_KEY)).status);
    }
    expect(service).toEqual([404, 404, 429]);
  });
});

/**
 * Far from its limit a client's requests are counted in each replica's memory and added to
 * Redis every RATE_LIMIT_SYNC_MS; near the limit, or after a pause, a request is counted in Redis
 * first. Two
 * replicas, a budget of 60 (exact below 10 remaining).
 */
describe('rate limits counted locally far from the limit', () => {
  const prefix = `${inject('queuePrefix')}-rl3`;
  let a: NestFastifyApplication;
  let b: NestFastifyApplication;
  const config = () => testConfig({ QUEUE_PREFIX: prefix, TRUST_PROXY: 'true', RATE_LIMIT_READS: '60/60' });
  const read = (app: NestFastifyApplication, client: string) =>
    request(app.getHttpServer()).get('/v1/collections/nothing_here/documents').set('x-forwarded-for', client);
  const settle = () => new Promise((resolve) => setTimeout(resolve, config().RATE_LIMIT_SYNC_MS * 3));

  beforeAll(async () => {
    [a, b] = await Promise.all([startApi(config()), startApi(config())]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteKeys(inject('redisUrl'), `${prefix}*`);
  });

  it('shares the counts of both replicas and refuses exactly at the limit', async () => {
    const client = '10.77.0.1';
    const remaining: number[] = [];
    for (let i = 0; i < 20; i++) remaining.push(Number((await read(a, client)).headers['ratelimit-remaining']));
    expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => 59 - i));
    await settle();
    // Replica b has not seen this client: its first request asks Redis, which holds a's 20.
    const first = await read(b, client);
    expect(first.headers['ratelimit-remaining']).toBe('39');
    for (let i = 0; i < 25; i++) await read(b, client);
    await settle();
    // a's picture is older than two syncs: its next request is counted in Redis first and
    // sees b's 26 too; the last 13 of 60 are then counted in Redis one by one (margin 10).
    const fromA: number[] = [];
    for (let i = 0; i < 14; i++) {
      const res = await read(a, client);
      expect(res.status).toBe(404);
      fromA.push(Number(res.headers['ratelimit-remaining']));
    }
    expect(fromA).toEqual(Array.from({ length: 14 }, (_, i) => 13 - i));
    const refusedA = await read(a, client);
    const refusedB = await read(b, client);
    expect([refusedA.status, refusedB.status]).toEqual([429, 429]);
    expect(Number(refusedB.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('never shows a count going down while a batch is on its way to Redis', async () => {
    const limiter = a.get(GatewayRateLimiter);
    const caller = { headers: {}, ip: '10.77.0.2' } as unknown as FastifyRequest;
    const remaining = async () => ((await limiter.consume('reads', caller)) as RateDecision).remaining;
    expect(await remaining()).toBe(59); // first of the window: counted in Redis
    // Far from the limit: counted here, synchronously (no promise).
    for (let i = 58; i >= 54; i--) expect((limiter.consume('reads', caller) as RateDecision).remaining).toBe(i);
    // The five are sent to Redis; until Redis answers they are neither pending nor in `known`.
    const sent = (limiter as unknown as { sync(): Promise<void> }).sync();
    expect((limiter.consume('reads', caller) as RateDecision).remaining).toBe(53);
    await sent;
    expect(await remaining()).toBe(52);
  });
});

describe('a bearer token passing the gateway', () => {
  let app: NestFastifyApplication;
  let user: TestUser;

  beforeAll(async () => {
    app = await startApi(testConfig({ QUEUE_PREFIX: `${inject('queuePrefix')}-rl4` }));
    user = await createUser(app);
  });
  afterAll(async () => {
    await app?.close();
    await deleteKeys(inject('redisUrl'), `${inject('queuePrefix')}-rl4*`);
  });

  it('is verified once per request: the rate limiter hands its verification to the AuthGuard', async () => {
    const tokens = app.get(TokenService);
    const verify = vi.spyOn(tokens, 'verifyAccess');
    const known = vi.spyOn(tokens, 'knownAccess');
    try {
      const me = () => request(app.getHttpServer()).get('/v1/auth/me').set(bearer(user)).expect(200);
      // A token not seen before: verified by the limiter (which needs its user), not again by the guard.
      expect((await me()).headers['ratelimit-remaining']).toBeDefined();
      expect(verify).toHaveBeenCalledTimes(1);
      // Seen before: one lookup of the verified token, by the limiter only.
      verify.mockClear();
      known.mockClear();
      await me();
      expect(verify).not.toHaveBeenCalled();
      expect(known).toHaveBeenCalledTimes(1);
      // An invalid token is refused by the guard as before, after the limiter found it invalid.
      verify.mockClear();
      known.mockClear();
      const bad = await request(app.getHttpServer()).get('/v1/auth/me').set('authorization', `Bearer ${user.accessToken}x`);
      expect(bad.status).toBe(401);
      expect(bad.body.code).toBe('INVALID_TOKEN');
      expect(verify).toHaveBeenCalledTimes(1);
    } finally {
      verify.mockRestore();
      known.mockRestore();
    }
  });
});
