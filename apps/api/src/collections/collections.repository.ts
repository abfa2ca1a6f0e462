import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import type { Selectable } from 'kysely';
import { type DB, isUniqueViolation, PG_POOL, PrismaService, type Tx, withTransaction } from '#libs/database';
import { type CollectionDef, type FieldDef, type IndexEntry, RULE_NAMES, type Rules } from './definition.js';
import { dropIndexStatement } from './ddl.js';
import { tableOf } from './sql.js';

/** Every change of a definition takes this transaction-scoped advisory lock: they run one at a time. */
const DEFINITIONS_LOCK = 0x0c011ec7;

/** A `collections` row as both readers select it (Prisma outside a change, Kysely inside one): timestamps under their Prisma names. */
type CollectionRow = Pick<Selectable<DB['collections']>, 'name' | 'fields' | 'indexes' | 'rules'> & { createdAt: Date; updatedAt: Date };

const FIELD_KEYS = ['name', 'type', 'required', 'unique', 'default', 'min', 'max', 'pattern', 'enum', 'collection', 'items', 'onDelete'] as const;

function toDef(row: CollectionRow): CollectionDef {
  // The JSON columns are written only by this repository, from validated definitions.
  // JSONB reorders keys: put them back in a stable, readable order.
  const fields = (row.fields as FieldDef[]).map(
    (f) => Object.fromEntries(FIELD_KEYS.filter((k) => Object.hasOwn(f, k)).map((k) => [k, f[k]])) as unknown as FieldDef,
  );
  const stored = row.rules as Rules;
  const rules = Object.fromEntries(RULE_NAMES.map((r) => [r, stored[r]])) as Rules;
  return {
    name: row.name,
    fields,
    indexes: row.indexes as IndexEntry[],
    rules,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const SELECT = { name: true, fields: true, indexes: true, rules: true, createdAt: true, updatedAt: true } as const;

/** The same columns for Kysely (inside a definition change). */
const COLUMNS = ['name', 'fields', 'indexes', 'rules', 'created_at as createdAt', 'updated_at as updatedAt'] as const;

/** The JSON columns of a definition, as jsonb parameters (plain JSON by construction: validated definitions). */
function jsonColumns(def: Omit<CollectionDef, 'createdAt' | 'updatedAt'>): { fields: string; indexes: string; rules: string } {
  return { fields: JSON.stringify(def.fields), indexes: JSON.stringify(def.indexes), rules: JSON.stringify(def.rules) };
}

/**
 * The queries a definition change makes, all inside one transaction (see CollectionsRepository.change):
 * the `collections` row through Kysely (`tx.db`), DDL and checks on the collection's table as
 * SQL built from validated identifiers (`tx.client`; DDL cannot take bound parameters).
 */
export class DefinitionTx {
  constructor(private readonly tx: Tx) {}

  async get(name: string): Promise<CollectionDef | undefined> {
    const row = await this.tx.db.selectFrom('collections').select(COLUMNS).where('name', '=', name).executeTakeFirst();
    return row ? toDef(row) : undefined;
  }

  async all(): Promise<CollectionDef[]> {
    return (await this.tx.db.selectFrom('collections').select(COLUMNS).orderBy('name').execute()).map(toDef);
  }

  /** Runs one DDL statement (built from validated identifiers only). */
  async execute(statement: string): Promise<void> {
    await this.tx.client.query(statement);
  }

  /** Blocks writes to the collection's table until the transaction ends, so checks stay true while indexes build. */
  async lockTable(name: string): Promise<void> {
    await this.tx.client.query(`LOCK TABLE ${tableOf(name)} IN SHARE MODE`);
  }

  /** How many documents match a predicate built from validated identifiers (ddl.ts). */
  async countWhere(name: string, predicate: string): Promise<number> {
    const { rows } = await this.tx.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tableOf(name)} WHERE ${predicate}`);
    return rows[0]?.n ?? 0;
  }

  /**
   * Runs a CREATE UNIQUE INDEX; false (and nothing changed) when stored documents already share
   * values ("could not create unique index": SQLSTATE 23505, like any unique violation).
   */
  async tryCreateUnique(statement: string): Promise<boolean> {
    await this.tx.client.query('SAVEPOINT unique_index');
    try {
      await this.tx.client.query(statement);
      await this.tx.client.query('RELEASE SAVEPOINT unique_index');
      return true;
    } catch (err) {
      await this.tx.client.query('ROLLBACK TO SAVEPOINT unique_index');
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async isEmpty(name: string): Promise<boolean> {
    const { rows } = await this.tx.client.query<{ has_rows: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${tableOf(name)}) AS has_rows`);
    return !rows[0]?.has_rows;
  }

  async insert(def: Omit<CollectionDef, 'createdAt' | 'updatedAt'>): Promise<CollectionDef> {
    const row = await this.tx.db
      .insertInto('collections')
      .values({ name: def.name, ...jsonColumns(def) })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return toDef(row);
  }

  async save(def: Omit<CollectionDef, 'createdAt' | 'updatedAt'>): Promise<CollectionDef> {
    const row = await this.tx.db
      .updateTable('collections')
      .set({ ...jsonColumns(def), updated_at: new Date() })
      .where('name', '=', def.name)
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return toDef(row);
  }

  async remove(name: string): Promise<void> {
    await this.tx.db.deleteFrom('collections').where('name', '=', name).execute();
  }
}

@Injectable()
export class CollectionsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  async find(name: string): Promise<CollectionDef | undefined> {
    const row = await this.prisma.collection.findUnique({ where: { name }, select: SELECT });
    return row ? toDef(row) : undefined;
  }

  async list(): Promise<CollectionDef[]> {
    return (await this.prisma.collection.findMany({ select: SELECT, orderBy: { name: 'asc' } })).map(toDef);
  }

  /**
   * Builds an index without blocking writes (CREATE INDEX CONCURRENTLY, outside a transaction);
   * false when it is unique and stored documents share values (its invalid remains must then be dropped).
   */
  async createIndexConcurrently(statement: string): Promise<boolean> {
    try {
      await this.pool.query(statement);
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async dropIndexConcurrently(name: string): Promise<void> {
    await this.pool.query(dropIndexStatement(name).replace('DROP INDEX', 'DROP INDEX CONCURRENTLY'));
  }

  /**
   * Runs a definition change (row + table + indexes) in one transaction, serialised with
   * every other definition change. DDL waits at most 10 s for locks instead of queueing
   * every other query of the table behind it.
   */
  async change<T>(work: (tx: DefinitionTx) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, async (tx) => {
      await tx.client.query(`SET LOCAL lock_timeout = '10s'`);
      await tx.client.query('SELECT pg_advisory_xact_lock($1)', [DEFINITIONS_LOCK]);
      return work(new DefinitionTx(tx));
    });
  }
}
