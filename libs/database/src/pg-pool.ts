import pg from 'pg';
import type { AppConfig } from '#libs/config';

/** The process's one Postgres pool: Prisma runs over it, and so does hand-written SQL. */
export const PG_POOL = Symbol('PG_POOL');

export function createPgPool(config: AppConfig, extra: Pick<pg.PoolConfig, 'statement_timeout' | 'application_name'> = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    ...extra,
  });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}
