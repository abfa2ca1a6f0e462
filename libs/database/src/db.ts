import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import type { DB } from './generated/kysely/types.js';

export type { DB } from './generated/kysely/types.js';

/**
 * The typed query layer (docs/decisions.md, "One typed way to reach Postgres"): Kysely over the
 * process's one pg pool, with row types generated from prisma/schema by prisma-kysely, so the
 * Prisma schema stays the one source of truth. Prisma keeps plain single-table CRUD; every
 * other query (joins, CTEs, bulk work, keyset pages) and every transaction goes through here.
 */
export type Db = Kysely<DB>;

/** Nest token of the process's `Db` (provided by DatabaseModule over PG_POOL). */
export const KYSELY = Symbol('KYSELY');

export function createDb(pool: pg.Pool): Db {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: pool }) });
}

/**
 * One client inside BEGIN/COMMIT of `withTransaction`: `db` builds typed queries on it, `client`
 * runs hand-built SQL on it (runtime collection tables, prepared statements), `afterCommit`
 * queues work for after a successful COMMIT (never after a ROLLBACK).
 */
export interface Tx {
  readonly db: Db;
  readonly client: pg.PoolClient;
  /** The pool the client came from (for work after the commit, on other clients). */
  readonly pool: pg.Pool;
  afterCommit(fn: () => void): void;
}

/** A Kysely bound to one pooled client (cached: pooled clients are reused). */
const boundDbs = new WeakMap<pg.PoolClient, Db>();
function dbOn(client: pg.PoolClient): Db {
  let db = boundDbs.get(client);
  if (!db) {
    // Kysely's driver only calls query(text, values) and release() on what connect() gives.
    const pinned = {
      query: (text: string, values: unknown[]) => client.query(text, values),
      release: () => undefined,
    } as unknown as PostgresPoolClient;
    const pool = { connect: async () => pinned, end: async () => undefined } as unknown as PostgresPool;
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    boundDbs.set(client, db);
  }
  return db;
}

/**
 * The one transaction helper: runs `work` on one client in BEGIN/COMMIT, ROLLBACK when it
 * throws, then runs the `afterCommit` queue. With `outer` given, `work` joins that
 * transaction instead (a batch of writes, a service calling a repository inside its own).
 */
export async function withTransaction<T>(pool: pg.Pool, work: (tx: Tx) => Promise<T>, outer?: Tx): Promise<T> {
  if (outer) return work(outer);
  const client = await pool.connect();
  const committed: (() => void)[] = [];
  const tx: Tx = { db: dbOn(client), client, pool, afterCommit: (fn) => void committed.push(fn) };
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(tx);
    await client.query('COMMIT');
    for (const fn of committed) fn();
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
