import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { PG_POOL } from '#libs/database';
import { REDIS } from '#libs/queue';
import { STORAGE_DRIVER, type StorageDriver } from '#libs/storage';

export type CheckStatus = { status: 'up'; latencyMs: number } | { status: 'down'; error: string };
export interface Readiness {
  ready: boolean;
  checks: { postgres: CheckStatus; redis: CheckStatus; storage: CheckStatus };
}

const CHECK_TIMEOUT_MS = 2_000;

/** One line saying why a check failed (e.g. "connect ECONNREFUSED 127.0.0.1:5432"), never a stack. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return 'unreachable';
  return err.message.split('\n')[0]!.trim() || err.name;
}

async function timed(run: () => Promise<unknown>): Promise<CheckStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (err) {
    return { status: 'down', error: describe(err) };
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class HealthService {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
  ) {}

  /** Real round trips to Postgres, Redis and the storage backend, in parallel, each bounded in time. */
  async readiness(): Promise<Readiness> {
    const [postgres, redis, storage] = await Promise.all([
      timed(() => this.pool.query('SELECT 1')),
      timed(() => this.redis.ping()),
      timed(() => this.storage.check()),
    ]);
    const checks = { postgres, redis, storage };
    return { ready: Object.values(checks).every((c) => c.status === 'up'), checks };
  }
}
