import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { defaultMigrationsDir, migrate } from '../../libs/database/src/index.js';

async function onAdmin<R extends pg.QueryResultRow = pg.QueryResultRow>(adminUrl: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Drops a test database. Connections still closing (a pool ending as its app shuts down) get
 * up to 3 s first: a forced drop terminates them mid-close, and pg then raises the server's
 * "terminating connection" as an uncaught error in the test process.
 */
async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline) {
    const [row] = await onAdmin<{ n: number }>(adminUrl, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
    if (!row || row.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await onAdmin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
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
  return { name, url: url.toString(), drop: () => dropDatabase(adminUrl, name) };
}
