import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { defaultMigrationsDir, migrate } from '../../libs/database/src/index.js';

async function onAdmin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A new database named `<prefix>_<pid>_<random>` on the server of `adminUrl`, migrated like
 * the real one. Test files that start a worker use one of their own: a worker's outbox relay
 * and email sweeper act on everything in the database they are given.
 */
export async function createMigratedDatabase(
  adminUrl: string,
  prefix: string,
): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onAdmin(adminUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString(), defaultMigrationsDir());
  return { name, url: url.toString(), drop: () => onAdmin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
