import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { FastifyReply } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { createDb, KYSELY } from '#libs/database';
import { REDIS } from '#libs/queue';
import { LocalDiskDriver, STORAGE_DRIVER, UrlSigner } from '#libs/storage';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

/**
 * The readiness decision (GET /v1/health/ready) as Nest services: Postgres and Redis are
 * stand-ins whose answers each test decides, storage is the real local-disk driver on a
 * temporary directory. test/api/readiness.e2e-spec.ts shows the same through TCP proxies to
 * the real servers and polls for the recovery; here each outcome is set and read at once.
 */
describe('HealthService.readiness / HealthController.ready', () => {
  let dir: string;
  let storage: LocalDiskDriver;
  const pgQuery = vi.fn<(text: string, values: unknown[]) => Promise<unknown>>();
  /** A pool whose one client answers with pgQuery: the service reaches Postgres through the real Kysely layer on it. */
  const pool = { connect: async () => ({ query: pgQuery, release: () => undefined }), end: async () => undefined } as unknown as pg.Pool;
  const redisPing = vi.fn<() => Promise<unknown>>();
  let health: HealthService;
  let controller: HealthController;

  /** The controller's answer and the HTTP status it set (none: 200). */
  async function ready(): Promise<{ httpStatus: number; body: Awaited<ReturnType<HealthController['ready']>> }> {
    let httpStatus = 200;
    const reply = { status: (code: number) => ((httpStatus = code), reply) };
    const body = await controller.ready(reply as unknown as FastifyReply);
    return { httpStatus, body };
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'health-spec-'));
    storage = new LocalDiskDriver({ root: join(dir, 'objects'), signer: new UrlSigner('s'.repeat(32)), signedUrlBase: 'http://127.0.0.1/v1/storage/signed' });
    await storage.init();
    pgQuery.mockReset().mockResolvedValue({ command: 'SELECT', rowCount: 1, rows: [{ '?column?': 1 }] });
    redisPing.mockReset().mockResolvedValue('PONG');
    const module = await Test.createTestingModule({
      controllers: [HealthController],
      providers: [
        HealthService,
        { provide: KYSELY, useValue: createDb(pool) },
        { provide: REDIS, useValue: { ping: redisPing } },
        { provide: STORAGE_DRIVER, useValue: storage },
      ],
    }).compile();
    health = module.get(HealthService);
    controller = module.get(HealthController);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is ready when Postgres, Redis and storage each answer a real round trip', async () => {
    const { httpStatus, body } = await ready();
    expect(httpStatus).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      ready: true,
      checks: { postgres: { status: 'up' }, redis: { status: 'up' }, storage: { status: 'up' } },
    });
    for (const check of Object.values(body.checks)) expect(check.status === 'up' && check.latencyMs).toBeGreaterThanOrEqual(0);
    expect(pgQuery).toHaveBeenCalledWith('SELECT 1', []);
    expect(redisPing).toHaveBeenCalledTimes(1);
  });

  it('answers 503 naming only the storage that is gone, and is ready again once it is back (same service, no restart)', async () => {
    await rm(join(dir, 'objects'), { recursive: true, force: true });
    const down = await ready();
    expect(down.httpStatus).toBe(503);
    expect(down.body).toMatchObject({ status: 'unavailable', ready: false, checks: { postgres: { status: 'up' }, redis: { status: 'up' }, storage: { status: 'down' } } });
    const storageCheck = down.body.checks.storage;
    expect(storageCheck.status === 'down' && storageCheck.error).toMatch(/ENOENT/);

    await storage.init();
    expect((await ready()).httpStatus).toBe(200);
  });

  it('says why a check failed in one line: the first line of the message, the error name, or "unreachable"', async () => {
    pgQuery.mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect'));
    const unnamed = new Error('');
    unnamed.name = 'ConnectionError';
    redisPing.mockRejectedValue(unnamed);
    const { body } = await ready();
    expect(body.checks.postgres).toEqual({ status: 'down', error: 'connect ECONNREFUSED 127.0.0.1:5432' });
    expect(body.checks.redis).toEqual({ status: 'down', error: 'ConnectionError' });
    expect(body.checks.storage.status).toBe('up');

    redisPing.mockRejectedValue('a string, not an Error');
    expect((await health.readiness()).checks.redis).toEqual({ status: 'down', error: 'unreachable' });
  });

  it('bounds a check that never answers, and runs the checks side by side', { timeout: 10_000 }, async () => {
    pgQuery.mockReturnValue(new Promise(() => undefined));
    redisPing.mockReturnValue(new Promise(() => undefined));
    const started = Date.now();
    const result = await health.readiness();
    const elapsed = Date.now() - started;
    expect(result.ready).toBe(false);
    expect(result.checks.postgres).toMatchObject({ status: 'down', error: expect.stringMatching(/\S/) });
    expect(result.checks.redis).toMatchObject({ status: 'down', error: expect.stringMatching(/\S/) });
    expect(result.checks.storage.status).toBe('up');
    // Two hanging checks cost one timeout (a few seconds at most), not two.
    expect(elapsed).toBeLessThan(4_000);
  });
});
