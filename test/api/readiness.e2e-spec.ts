import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** Readiness while a dependency goes away and comes back, through proxies to the real servers. */
describe('GET /v1/health/ready when a dependency is down', () => {
  const pgUrl = new URL(inject('databaseUrl'));
  const redisUrl = new URL(inject('redisUrl'));
  const pgProxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  const redisProxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const viaPg = new URL(pgUrl);
    viaPg.port = String(await pgProxy.start());
    const viaRedis = new URL(redisUrl);
    viaRedis.port = String(await redisProxy.start());
    app = await startApi(testConfig({ DATABASE_URL: viaPg.toString(), REDIS_URL: viaRedis.toString() }));
  });
  afterAll(async () => {
    await app.close();
    await pgProxy.stop();
    await redisProxy.stop();
  });

  const ready = () => request(app.getHttpServer()).get('/v1/health/ready');

  it('answers 503 naming Postgres while it is down, and recovers without a restart', async () => {
    await ready().expect(200);

    await pgProxy.stop();
    const down = await ready().expect(503);
    expect(down.body).toMatchObject({
      status: 'unavailable',
      ready: false,
      checks: { postgres: { status: 'down', error: expect.stringMatching(/\S/) }, redis: { status: 'up' } },
    });

    await pgProxy.restart();
    await expect.poll(async () => (await ready()).status, { timeout: 10_000, interval: 200 }).toBe(200);
  });

  it('answers 503 naming Redis while it is down, and recovers without a restart', async () => {
    await redisProxy.stop();
    const down = await ready().expect(503);
    expect(down.body.checks).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'down', error: expect.stringMatching(/\S/) } });

    await redisProxy.restart();
    await expect.poll(async () => (await ready()).status, { timeout: 15_000, interval: 200 }).toBe(200);
  });
});
