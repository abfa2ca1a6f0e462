import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { type Db, KYSELY } from '#libs/database';
import { REDIS } from '#libs/queue';
import { STORAGE_DRIVER, type StorageDriver } from '#libs/storage';
import { untilAborted } from '../common/deadline.js';

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
  try {
    await untilAborted(run(), AbortSignal.timeout(CHECK_TIMEOUT_MS), `no answer within ${CHECK_TIMEOUT_MS} ms`);
    return { status: 'up', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (err) {
    return { status: 'down', error: describe(err) };
  }
}

@Injectable()
export class HealthService {
  constructor(
    @Inject(KYSELY) private readonly db: Db,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
  ) {}

  /** Real round trips to Postgres, Redis and the storage backend, in parallel, each bounded in time. */
  async readiness(): Promise<Readiness> {
    const [postgres, redis, storage] = await Promise.all([
      timed(() => sql`SELECT 1`.execute(this.db)),
      timed(() => this.redis.ping()),
      timed(() => this.storage.check()),
    ]);
    const checks = { postgres, redis, storage };
    return { ready: Object.values(checks).every((c) => c.status === 'up'), checks };
  }
}
