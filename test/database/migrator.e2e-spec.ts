import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { defaultMigrationsDir, migrate, MigrationError, readMigrations } from '#libs/database';

const adminUrl = inject('adminDatabaseUrl');

const createdDatabases: string[] = [];
const createdDirs: string[] = [];

/** A fresh, empty database for one test; returns its URL. */
async function scratchDatabase(): Promise<string> {
  const name = `baas_migrator_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  createdDatabases.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh temp migrations directory for one test. */
async function migrationsDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'baas-migrations-'));
  createdDirs.push(dir);
  // Prisma keeps this file beside the folders; the runner must ignore it.
  await writeFile(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  return dir;
}

async function writeMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(join(dir, name), { recursive: true });
  await writeFile(join(dir, name, 'migration.sql'), sql);
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  return withClient(url, async (c) => (await c.query<R>(sql, params)).rows);
}

async function tableExists(url: string, table: string): Promise<boolean> {
  const rows = await query<{ t: string | null }>(url, 'SELECT to_regclass($1)::text AS t', [`public.${table}`]);
  return rows[0]?.t != null;
}

describe('migrate() on a database that does not exist yet', () => {
  it('creates it (as prisma migrate deploy does) and applies the migrations', async () => {
    const name = `baas_migrator_new_${process.pid}_${randomBytes(4).toString('hex')}`;
    createdDatabases.push(name);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const dir = await migrationsDir();
    await writeMigration(dir, '20260101000000_first', 'CREATE TABLE first_table (id int);');
    const result = await migrate(url.toString(), dir);
    expect(result.applied).toEqual(['20260101000000_first']);
    expect(await tableExists(url.toString(), 'first_table')).toBe(true);
  });
});

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

async function migrationRows(url: string): Promise<MigrationRow[]> {
  return query<MigrationRow>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Awaits a promise expected to reject with a MigrationError and returns it. */
async function migrationError(promise: Promise<unknown>): Promise<MigrationError> {
  const err: unknown = await promise.then(
    () => {
      throw new Error('migrate() resolved, expected a MigrationError');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MigrationError);
  return err as MigrationError; // narrowed by the assertion above
}

const M1 = '20260101000000_create_alpha';
const M2 = '20260102000000_create_beta';
const M3 = '20260103000000_alter_alpha';
const SQL1 = '-- CreateTable\nCREATE TABLE "alpha" ("id" SERIAL PRIMARY KEY, "name" TEXT NOT NULL);\n';
const SQL2 = 'CREATE TABLE "beta" ("id" SERIAL PRIMARY KEY, "alpha_id" INTEGER NOT NULL REFERENCES "alpha"("id"));\n';
// Depends on alpha existing: only works if applied after M1.
const SQL3 = 'ALTER TABLE "alpha" ADD COLUMN "note" TEXT;\nCREATE INDEX "alpha_note_idx" ON "alpha"("note");\n';

/** A temp dir holding M1..M3, written in reverse order so name order, not creation order, must win. */
async function threeMigrations(): Promise<string> {
  const dir = await migrationsDir();
  await writeMigration(dir, M3, SQL3);
  await writeMigration(dir, M2, SQL2);
  await writeMigration(dir, M1, SQL1);
  return dir;
}

afterEach(async () => {
  const dbs = createdDatabases.splice(0);
  const dirs = createdDirs.splice(0);
  await withClient(adminUrl, async (c) => {
    for (const name of dbs) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

afterAll(async () => {
  // Anything left by a test that failed before afterEach could run.
  const leftovers = await query<{ datname: string }>(
    adminUrl,
    "SELECT datname FROM pg_database WHERE datname LIKE $1",
    [`baas_migrator_${process.pid}_%`],
  );
  await withClient(adminUrl, async (c) => {
    for (const { datname } of leftovers) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
});

describe('migrate()', () => {
  it('applies pending migrations in name order and records them exactly like Prisma', async () => {
    const url = await scratchDatabase();
    const dir = await threeMigrations();

    const result = await migrate(url, dir);

    expect(result).toEqual({ applied: [M1, M2, M3], alreadyApplied: [] });
    const rows = await migrationRows(url);
    expect(rows.map((r) => r.migration_name)).toEqual([M1, M2, M3]);
    const sqlByName: Record<string, string> = { [M1]: SQL1, [M2]: SQL2, [M3]: SQL3 };
    for (const row of rows) {
      expect(row.checksum).toBe(sha256(sqlByName[row.migration_name]!));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).toHaveLength(36);
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
    }
    expect(new Set(rows.map((r) => r.id)).size).toBe(3);
    // started_at follows application order.
    const started = [...rows].sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
    expect(started.map((r) => r.migration_name)).toEqual([M1, M2, M3]);

    expect(await tableExists(url, 'alpha')).toBe(true);
    expect(await tableExists(url, 'beta')).toBe(true);
    const columns = await query<{ column_name: string }>(
      url,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'alpha' ORDER BY ordinal_position",
    );
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'name', 'note']);
  });

  it('applies nothing on a second run and reports every migration as already applied', async () => {
    const url = await scratchDatabase();
    const dir = await threeMigrations();
    await migrate(url, dir);
    const before = await migrationRows(url);

    const again = await migrate(url, dir);

    expect(again).toEqual({ applied: [], alreadyApplied: [M1, M2, M3] });
    expect(await migrationRows(url)).toEqual(before);
  });

  it('applies only the new migration when one is added later', async () => {
    const url = await scratchDatabase();
    const dir = await migrationsDir();
    await writeMigration(dir, M1, SQL1);
    expect(await migrate(url, dir)).toEqual({ applied: [M1], alreadyApplied: [] });

    await writeMigration(dir, M2, SQL2);
    expect(await migrate(url, dir)).toEqual({ applied: [M2], alreadyApplied: [M1] });
    expect(await tableExists(url, 'beta')).toBe(true);
  });

  it('refuses to run when an applied migration was edited, and applies nothing new', async () => {
    const url = await scratchDatabase();
    const dir = await migrationsDir();
    await writeMigration(dir, M1, SQL1);
    await writeMigration(dir, M2, SQL2);
    await migrate(url, dir);
    const before = await migrationRows(url);

    await writeMigration(dir, M2, SQL2 + '-- edited after it was applied\n');
    await writeMigration(dir, M3, SQL3);
    const err = await migrationError(migrate(url, dir));

    expect(err.message).toContain(M2);
    expect(await migrationRows(url)).toEqual(before);
    const columns = await query<{ column_name: string }>(
      url,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'alpha' AND column_name = 'note'",
    );
    expect(columns).toEqual([]);
  });

  it('refuses an edited migration without applying a pending one that creates a table', async () => {
    const url = await scratchDatabase();
    const dir = await migrationsDir();
    await writeMigration(dir, M1, SQL1);
    await migrate(url, dir);

    await writeMigration(dir, M1, SQL1.replace('"name" TEXT', '"name" VARCHAR(10)'));
    await writeMigration(dir, M2, SQL2);
    const err = await migrationError(migrate(url, dir));

    expect(err.message).toContain(M1);
    expect(await tableExists(url, 'beta')).toBe(false);
    expect((await migrationRows(url)).map((r) => r.migration_name)).toEqual([M1]);
  });

  it('rolls a failing migration back entirely and does not record it', async () => {
    const url = await scratchDatabase();
    const dir = await migrationsDir();
    await writeMigration(dir, M1, SQL1);
    await writeMigration(dir, M2, SQL2);
    const broken = '20260103000000_broken';
    await writeMigration(
      dir,
      broken,
      'CREATE TABLE "partial" ("id" INTEGER);\nALTER TABLE "alpha" ADD COLUMN "extra" TEXT;\nSELECT * FROM "no_such_table";\n',
    );
    const after = '20260104000000_after_broken';
    await writeMigration(dir, after, 'CREATE TABLE "gamma" ("id" INTEGER);\n');

    const err = await migrationError(migrate(url, dir));

    expect(err.message).toContain(broken);
    expect(err.message).toContain('no_such_table');
    expect(await tableExists(url, 'alpha')).toBe(true);
    expect(await tableExists(url, 'beta')).toBe(true);
    expect(await tableExists(url, 'partial')).toBe(false);
    expect(await tableExists(url, 'gamma')).toBe(false);
    const extra = await query(
      url,
      "SELECT 1 FROM information_schema.columns WHERE table_name = 'alpha' AND column_name = 'extra'",
    );
    expect(extra).toEqual([]);
    const rows = await migrationRows(url);
    expect(rows.map((r) => r.migration_name)).toEqual([M1, M2]);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);

    // Nothing was left half-done, so fixing the file lets the next run continue.
    await writeMigration(dir, broken, 'CREATE TABLE "partial" ("id" INTEGER);\n');
    expect(await migrate(url, dir)).toEqual({ applied: [broken, after], alreadyApplied: [M1, M2] });
  });

  it('applies every migration exactly once when two runs start at the same time', async () => {
    const url = await scratchDatabase();
    const dir = await migrationsDir();
    const names: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const name = `2026010${i}000000_table_${i}`;
      names.push(name);
      // pg_sleep widens the window in which the other run could interleave.
      await writeMigration(dir, name, `CREATE TABLE "t${i}" ("id" INTEGER);\nSELECT pg_sleep(0.05);\n`);
    }

    const [a, b] = await Promise.all([migrate(url, dir), migrate(url, dir)]);

    expect([...a.applied, ...b.applied].sort()).toEqual(names);
    expect(new Set([...a.applied, ...b.applied]).size).toBe(names.length);
    for (const r of [a, b]) expect([...r.applied, ...r.alreadyApplied].sort()).toEqual(names);
    const counts = await query<{ migration_name: string; n: number }>(
      url,
      'SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY migration_name',
    );
    expect(counts).toEqual(names.map((migration_name) => ({ migration_name, n: 1 })));
  });

  it('refuses to run after an unresolved failed attempt, pointing at prisma migrate resolve', async () => {
    const url = await scratchDatabase();
    const dir = await migrationsDir();
    await writeMigration(dir, M1, SQL1);
    await writeMigration(dir, M2, SQL2);
    await migrate(url, dir);
    await writeMigration(dir, M3, SQL3);
    // What `prisma migrate deploy` leaves behind when a migration fails: started, never finished.
    await query(
      url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES (gen_random_uuid()::text, $1, $2, 'syntax error', now(), 0)`,
      [sha256(SQL3), M3],
    );

    const err = await migrationError(migrate(url, dir));

    expect(err.message).toContain('prisma migrate resolve');
    expect(err.message).toContain(M3);
    const columns = await query(
      url,
      "SELECT 1 FROM information_schema.columns WHERE table_name = 'alpha' AND column_name = 'note'",
    );
    expect(columns).toEqual([]);

    // Once resolved as rolled back (what `prisma migrate resolve --rolled-back` does), it runs again.
    await query(url, 'UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE finished_at IS NULL');
    expect(await migrate(url, dir)).toEqual({ applied: [M3], alreadyApplied: [M1, M2] });
  });

  it('refuses to run when a migration recorded in the database is missing on disk', async () => {
    const url = await scratchDatabase();
    const dir = await threeMigrations();
    await migrate(url, dir);
    await rm(join(dir, M2), { recursive: true });
    await writeMigration(dir, '20260104000000_create_delta', 'CREATE TABLE "delta" ("id" INTEGER);\n');

    const err = await migrationError(migrate(url, dir));

    expect(err.message).toContain(M2);
    expect(await tableExists(url, 'delta')).toBe(false);
    expect(await migrationRows(url)).toHaveLength(3);
  });

  it("applies the project's real migrations with checksums equal to sha256 of the files", async () => {
    const url = await scratchDatabase();
    const dir = defaultMigrationsDir();
    const files = await readMigrations(dir);
    expect(files.length).toBeGreaterThan(0);

    const result = await migrate(url, dir);

    expect(result.applied).toEqual(files.map((f) => f.name));
    const rows = await migrationRows(url);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const row of rows) {
      // Hash the raw bytes on disk, independently of how the runner reads the file.
      const bytes = await readFile(join(dir, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });
});
