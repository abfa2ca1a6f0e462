import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { defaultMigrationsDir, migrate } from '../../libs/database/src/index.js';

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
 * BullMQ key prefix, so runs never see each other's data. Postgres and Redis are the real
 * servers (127.0.0.1 by default; TEST_POSTGRES_URL / TEST_REDIS_URL override).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const dbName = `baas_test_${suffix}`;
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${dbName}`;

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  await migrate(databaseUrl.toString(), defaultMigrationsDir());

  project.provide('databaseUrl', databaseUrl.toString());
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('queuePrefix', `baas_test_${suffix}`);

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await client.end();
  };
}
