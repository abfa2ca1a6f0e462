import { Injectable } from '@nestjs/common';
import { type Prisma, PrismaService } from '#libs/database';
import { type CollectionDef, type FieldDef, type IndexEntry, RULE_NAMES, type Rules } from './definition.js';
import { dropIndexStatement } from './ddl.js';
import { tableOf } from './sql.js';

/** A unique violation from Postgres, raw or wrapped by Prisma. */
function isUniqueViolation(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${JSON.stringify(err)}` : String(err);
  return /23505|duplicate key|could not create unique index/i.test(text);
}

/** Every change of a definition takes this transaction-scoped advisory lock: they run one at a time. */
const DEFINITIONS_LOCK = 0x0c011ec7;

interface CollectionRow {
  name: string;
  fields: Prisma.JsonValue;
  indexes: Prisma.JsonValue;
  rules: Prisma.JsonValue;
  createdAt: Date;
  updatedAt: Date;
}

const FIELD_KEYS = ['name', 'type', 'required', 'unique', 'default', 'min', 'max', 'pattern', 'enum', 'collection', 'items', 'onDelete'] as const;

function toDef(row: CollectionRow): CollectionDef {
  // The JSON columns are written only by this repository, from validated definitions.
  // JSONB reorders keys: put them back in a stable, readable order.
  const fields = (row.fields as unknown as FieldDef[]).map(
    (f) => Object.fromEntries(FIELD_KEYS.filter((k) => Object.hasOwn(f, k)).map((k) => [k, f[k]])) as unknown as FieldDef,
  );
  const stored = row.rules as unknown as Rules;
  const rules = Object.fromEntries(RULE_NAMES.map((r) => [r, stored[r]])) as Rules;
  return {
    name: row.name,
    fields,
    indexes: row.indexes as unknown as IndexEntry[],
    rules,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const SELECT = { name: true, fields: true, indexes: true, rules: true, createdAt: true, updatedAt: true } as const;

/** The queries a definition change makes, all inside one transaction (see CollectionsRepository.change). */
export class DefinitionTx {
  constructor(private readonly tx: Prisma.TransactionClient) {}

  async get(name: string): Promise<CollectionDef | undefined> {
    const row = await this.tx.collection.findUnique({ where: { name }, select: SELECT });
    return row ? toDef(row) : undefined;
  }

  async all(): Promise<CollectionDef[]> {
    return (await this.tx.collection.findMany({ select: SELECT, orderBy: { name: 'asc' } })).map(toDef);
  }

  /** Runs one DDL statement (built from validated identifiers only; DDL cannot take bound parameters). */
  async execute(statement: string): Promise<void> {
    await this.tx.$executeRawUnsafe(statement);
  }

  /** Blocks writes to the collection's table until the transaction ends, so checks stay true while indexes build. */
  async lockTable(name: string): Promise<void> {
    await this.tx.$executeRawUnsafe(`LOCK TABLE ${tableOf(name)} IN SHARE MODE`);
  }

  /** How many documents match a predicate built from validated identifiers (ddl.ts). */
  async countWhere(name: string, predicate: string): Promise<number> {
    const rows = await this.tx.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${tableOf(name)} WHERE ${predicate}`);
    return rows[0]?.n ?? 0;
  }

  /** Runs a CREATE UNIQUE INDEX; false (and nothing changed) when stored documents already share values. */
  async tryCreateUnique(statement: string): Promise<boolean> {
    await this.tx.$executeRawUnsafe('SAVEPOINT unique_index');
    try {
      await this.tx.$executeRawUnsafe(statement);
      await this.tx.$executeRawUnsafe('RELEASE SAVEPOINT unique_index');
      return true;
    } catch (err) {
      await this.tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT unique_index');
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async isEmpty(name: string): Promise<boolean> {
    const rows = await this.tx.$queryRawUnsafe<{ any: boolean }[]>(`SELECT EXISTS (SELECT 1 FROM ${tableOf(name)}) AS any`);
    return !rows[0]?.any;
  }

  async insert(def: Omit<CollectionDef, 'createdAt' | 'updatedAt'>): Promise<CollectionDef> {
    const row = await this.tx.collection.create({
      data: {
        name: def.name,
        fields: def.fields as unknown as Prisma.InputJsonValue, // plain JSON by construction
        indexes: def.indexes as unknown as Prisma.InputJsonValue, // plain JSON by construction
        rules: def.rules as unknown as Prisma.InputJsonValue, // plain JSON by construction (safeJsonObject)
      },
      select: SELECT,
    });
    return toDef(row);
  }

  async save(def: Omit<CollectionDef, 'createdAt' | 'updatedAt'>): Promise<CollectionDef> {
    const row = await this.tx.collection.update({
      where: { name: def.name },
      data: { fields: def.fields as unknown as Prisma.InputJsonValue, indexes: def.indexes as unknown as Prisma.InputJsonValue, rules: def.rules as unknown as Prisma.InputJsonValue },
      select: SELECT,
    });
    return toDef(row);
  }

  async remove(name: string): Promise<void> {
    await this.tx.collection.delete({ where: { name } });
  }
}

@Injectable()
export class CollectionsRepository {
  constructor(private readonly prisma: PrismaService) {}

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
      await this.prisma.$executeRawUnsafe(statement);
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async dropIndexConcurrently(name: string): Promise<void> {
    await this.prisma.$executeRawUnsafe(dropIndexStatement(name).replace('DROP INDEX', 'DROP INDEX CONCURRENTLY'));
  }

  /**
   * Runs a definition change (row + table + indexes) in one transaction, serialised with
   * every other definition change. DDL waits at most 10 s for locks instead of queueing
   * every other query of the table behind it; index builds may take longer than Prisma's
   * default 5 s transaction timeout.
   */
  async change<T>(work: (tx: DefinitionTx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '10s'`);
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${DEFINITIONS_LOCK})`);
        return work(new DefinitionTx(tx));
      },
      { maxWait: 10_000, timeout: 10 * 60_000 },
    );
  }
}
