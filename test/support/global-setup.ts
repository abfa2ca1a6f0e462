import type { TestProject } from 'vitest/node';
import { createMigratedDatabase } from './databases.js';
import { deleteKeys } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    adminDatabaseUrl: string;
    redisUrl: string;
    queuePrefix: string;
  }
}

/**
 * Each test run gets its own database (created, migrated, dropped at the end) and its own
 * Redis key prefix (deleted at the end), so runs never see each other's data. Postgres and Redis are the real
 * servers (127.0.0.1 by default; TEST_POSTGRES_URL / TEST_REDIS_URL override).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const db = await createMigratedDatabase(adminUrl, 'baas_test');

  project.provide('databaseUrl', db.url);
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('queuePrefix', db.name);

  return async () => {
    await db.drop();
    // The run's queue, rate-limit and per-file prefixes all start with its own name.
    await deleteKeys(redisUrl, `${db.name}*`);
  };
}
