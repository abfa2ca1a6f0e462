import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { createDb, createPgPool, type Db, PG_POOL, type Tx } from '#libs/database';
import { outboxCte, outboxEvented, runWithOutbox } from '#libs/events';
import { type Caller, isAdmin } from '../../auth/caller.js';
import type { CollectionDef, Rule } from '../definition.js';
import { readFilterSql, writeFilterSql } from '../permissions.js';
import { type RuleContext, ruleSql } from '../rules.js';
import { fieldExpr, fieldLiteral, Params, tableOf } from '../sql.js';
import type { Acl } from '../values.js';
import { compileFilter } from './filter.js';
import { afterCursorParts, orderBySql, type SortKey, sortColumnsSql } from './paging.js';

/** A stored document, as its table holds it. */
export interface DocRow {
  id: string;
  data: Record<string, unknown>;
  owner_id: string | null;
  acl: Acl | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/**
 * Where a query runs: a pool (the read pool, or the main pool for a single-statement write), or
 * the client of a `withTransaction` (`tx.client`).
 */
export type Queryable = pg.Pool | pg.PoolClient;

/**
 * Where a write that may carry an outbox event runs: the pool (one autocommit statement) or a
 * `withTransaction` (the event then wakes the relay after COMMIT: runWithOutbox).
 */
export type Writable = pg.Pool | Tx;

const COLUMNS = 'd.id, d.data, d.owner_id, d.acl, d.version, d.created_at, d.updated_at';

/** A timestamptz(3) column as Date.prototype.toISOString() writes it (what toDoc() returns). */
const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The name of a collection's write statement, prepared once per pooled connection: the write and
 * its guarded event make a CTE whose parse + plan cost more than its execution (bench/system.mjs).
 * Hashed, as Postgres truncates statement names to 63 bytes; the text is fixed per collection.
 */
const statementNames = new Map<string, string>();
function statementName(kind: 'insert' | 'update', collection: string): string {
  const key = `${kind}:${collection}`;
  let name = statementNames.get(key);
  if (!name) statementNames.set(key, (name = `doc_${kind}_${createHash('sha256').update(collection).digest('hex').slice(0, 32)}`));
  return name;
}

/**
 * The name of a one-statement update or delete, by its text: the text carries the caller's
 * permission predicate, so it takes a few shapes per collection (admin, anonymous, user, roles;
 * with or without If-Match), each prepared once per connection. Bounded: cleared past 2000.
 */
const textNames = new Map<string, string>();
function textStatementName(text: string): string {
  let name = textNames.get(text);
  if (!name) {
    if (textNames.size >= 2000) textNames.clear();
    textNames.set(text, (name = `doc_w_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`));
  }
  return name;
}

/**
 * A document as clients see it (toDoc), built by Postgres from the row `alias` (for change
 * events written in the write's own statement): the declared fields of `data` (bound as
 * `fields`), then the system fields, which win a name clash as in docBody.
 */
function docJsonSql(alias: string, fields: string, cols: { id: string; data: string; acl: string; version: string; updatedAt: string }): string {
  const declared = `(SELECT coalesce(jsonb_object_agg(f.k, f.v), '{}'::jsonb) FROM jsonb_each(${cols.data}) AS f(k, v) WHERE f.k = ANY(${fields}))`;
  return `(${declared} || jsonb_build_object('id', ${cols.id}, 'ownerId', ${alias}.owner_id, 'acl', ${cols.acl}, 'version', ${cols.version}, 'createdAt', ${ISO(`${alias}.created_at`)}, 'updatedAt', ${ISO(cols.updatedAt)}))`;
}

/** A PATCH as one statement can do it: `DocumentsRepository.patchInOne`. */
export interface OneStatementPatch {
  id: string;
  /** Fields to set (checked against the definition), merged into the stored data by Postgres. */
  set: Record<string, unknown>;
  /** Fields to remove. */
  unset: string[];
  /** Present when the patch replaces the acl (only the owner or an admin may: part of the predicate). */
  acl?: Acl | null;
  /** If-Match: the version the document must be at. */
  version?: number;
  /** The change event's fields other than before/after (collection, operation, documentId, actor). */
  event: Record<string, unknown>;
}

export interface ListQuery {
  filter?: Record<string, unknown>;
  /** The top-level `$search` text when the sort ranks by it (bound first: the rank's SQL names `$1`). */
  rankedSearch?: string;
  sort: SortKey[];
  after?: (string | null)[];
  /** Rows to fetch (one more than the page, to know whether another page follows). */
  limit: number;
}

/**
 * The SELECT of one page: filter, permission predicate, keyset condition, order. Undefined
 * when the caller's rule lets them see nothing. Exported for the index-usage test.
 */
export function buildListQuery(def: CollectionDef, caller: Caller, q: ListQuery): { text: string; values: unknown[] } | undefined {
  const params = new Params();
  if (q.rankedSearch !== undefined) params.add(q.rankedSearch, 'text');
  const where = whereSql(def, caller, def.rules.list, q.filter, params);
  if (where === undefined) return undefined;
  const parts = q.after ? afterCursorParts(q.sort, q.after, params) : ['TRUE'];
  const limit = params.add(q.limit, 'int');
  const select = (part: string, extra = '') =>
    `SELECT ${COLUMNS}, ${sortColumnsSql(q.sort)}${extra} FROM ${tableOf(def.name)} d` +
    ` WHERE ${[...where, part].join(' AND ')} ORDER BY ${orderBySql(q.sort)} LIMIT ${limit}`;
  if (parts.length === 1) return { text: select(parts[0]!), values: params.values };
  // Two disjoint ranges, each served by the index in order; the first sorts before the second.
  const typed = q.sort.map((k, i) => `, ${k.expr.sql} AS k${i}`).join('');
  const branches = parts.map((part, i) => `(${select(part, `${typed}, ${i} AS part`)})`);
  const outerOrder = q.sort.map((k, i) => `u.k${i} ${k.desc ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`).join(', ');
  return { text: `SELECT u.* FROM (${branches.join(' UNION ALL ')}) u ORDER BY u.part, ${outerOrder} LIMIT ${limit}`, values: params.values };
}

export function buildCountQuery(def: CollectionDef, caller: Caller, filter?: Record<string, unknown>): { text: string; values: unknown[] } | undefined {
  const params = new Params();
  const where = whereSql(def, caller, def.rules.list, filter, params);
  if (where === undefined) return undefined;
  return { text: `SELECT count(*)::int AS n FROM ${tableOf(def.name)} d WHERE ${where.join(' AND ')}`, values: params.values };
}

function whereSql(def: CollectionDef, caller: Caller, rule: Rule, filter: Record<string, unknown> | undefined, params: Params): string[] | undefined {
  const allowed = readFilterSql(caller, rule, params, 'd', def);
  if (allowed === false) return undefined;
  const where = [allowed];
  if (filter && Object.keys(filter).length > 0) where.push(`(${compileFilter(def, filter, params)})`);
  return where;
}

@Injectable()
export class DocumentsRepository implements OnApplicationShutdown {
  /**
   * Reads outside transactions (list, count, get, expand) run here: connections whose
   * `statement_timeout` is DATA_QUERY_TIMEOUT_MS, so an unindexed filter on a large collection
   * cannot hold a connection for long (no extra round trip per query). The main pool when 0.
   */
  readonly readPool: pg.Pool;
  /** Kysely over the read pool: the system tables a document read also reads (users, for expansion). */
  readonly readDb: Db;

  constructor(
    @Inject(PG_POOL) readonly pool: pg.Pool,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.readPool =
      config.DATA_QUERY_TIMEOUT_MS > 0
        ? createPgPool(config, { statement_timeout: config.DATA_QUERY_TIMEOUT_MS, application_name: 'baas-document-reads' })
        : pool;
    this.readDb = createDb(this.readPool);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.readPool !== this.pool) await this.readPool.end().catch(() => undefined);
  }

  /** The document if it exists and the caller may read it under `rule`; optionally locked for a write. */
  async findReadable(db: Queryable, def: CollectionDef, caller: Caller, rule: Rule, id: string, forUpdate = false): Promise<DocRow | undefined> {
    const params = new Params();
    const allowed = readFilterSql(caller, rule, params, 'd', def);
    if (allowed === false) return undefined;
    const text = `SELECT ${COLUMNS} FROM ${tableOf(def.name)} d WHERE d.id = ${params.add(id, 'uuid')} AND ${allowed}${forUpdate ? ' FOR UPDATE' : ''}`;
    const { rows } = await db.query<DocRow>(text, params.values);
    return rows[0];
  }

  /**
   * Whether `rule` holds for the caller on the stored document `id`, on `fresh` (a document
   * not stored yet), or on `row` (a document as a change event carries it: it may have changed
   * or be deleted since), answered by Postgres: for rules that read referenced documents
   * (ruleNeedsSql), whose referenced rows are read as they are now.
   */
  async ruleHolds(
    db: Queryable,
    def: CollectionDef,
    caller: Caller,
    rule: Rule,
    ctx: RuleContext,
    target: { id: string } | { fresh: { id: string; ownerId: string | null; data: Record<string, unknown> } } | { row: DocRow },
  ): Promise<boolean> {
    const params = new Params();
    const sql = ruleSql(caller, rule, params, 'd', def, ctx);
    if (sql === false) return false;
    let from: string;
    if ('fresh' in target) {
      from = `(SELECT ${params.add(target.fresh.id, 'uuid')} AS id, ${params.add(JSON.stringify(target.fresh.data), 'jsonb')} AS data, ${params.add(target.fresh.ownerId, 'uuid')} AS owner_id,
             NULL::jsonb AS acl, clock_timestamp() AS created_at, clock_timestamp() AS updated_at) d`;
    } else if ('row' in target) {
      const { row } = target;
      from = `(SELECT ${params.add(row.id, 'uuid')} AS id, ${params.add(JSON.stringify(row.data), 'jsonb')} AS data, ${params.add(row.owner_id, 'uuid')} AS owner_id,
             ${params.add(row.acl === null ? null : JSON.stringify(row.acl), 'jsonb')} AS acl, ${params.add(row.version, 'int')} AS version,
             ${params.add(row.created_at.toISOString(), 'timestamptz')} AS created_at, ${params.add(row.updated_at.toISOString(), 'timestamptz')} AS updated_at) d`;
    } else {
      from = `${tableOf(def.name)} d WHERE d.id = ${params.add(target.id, 'uuid')}`;
    }
    const { rows } = await db.query<{ ok: boolean | null }>(`SELECT (${sql}) AS ok FROM ${from}`, params.values);
    return rows[0]?.ok === true;
  }

  /** Whether a document with this id exists, readable or not (an upsert must not create over it). */
  async exists(db: Queryable, def: CollectionDef, id: string): Promise<boolean> {
    const { rows } = await db.query(`SELECT 1 FROM ${tableOf(def.name)} WHERE id = $1::uuid`, [id]);
    return rows.length > 0;
  }

  /** The readable documents among `ids` (for expansion and reference checks). */
  async findReadableMany(db: Queryable, def: CollectionDef, caller: Caller, ids: string[]): Promise<DocRow[]> {
    if (ids.length === 0) return [];
    const params = new Params();
    const allowed = readFilterSql(caller, def.rules.read, params, 'd', def);
    if (allowed === false) return [];
    const text = `SELECT ${COLUMNS} FROM ${tableOf(def.name)} d WHERE d.id = ANY(${params.add(ids, 'uuid[]')}) AND ${allowed}`;
    const { rows } = await db.query<DocRow>(text, params.values);
    return rows;
  }

  async list(db: Queryable, def: CollectionDef, caller: Caller, q: ListQuery): Promise<(DocRow & Record<`s${number}`, string | null>)[]> {
    const query = buildListQuery(def, caller, q);
    if (!query) return [];
    const { rows } = await db.query<DocRow & Record<`s${number}`, string | null>>(query.text, query.values);
    return rows;
  }

  async count(db: Queryable, def: CollectionDef, caller: Caller, filter?: Record<string, unknown>): Promise<number> {
    const query = buildCountQuery(def, caller, filter);
    if (!query) return 0;
    const { rows } = await db.query<{ n: number }>(query.text, query.values);
    return rows[0]?.n ?? 0;
  }

  /**
   * Inserts a document and its `db.change` outbox event (when a function subscribes, checked in the
   * same statement: docs/functions.md) in ONE statement (atomic on its own, so it needs
   * no BEGIN/COMMIT round trips): `event` is the payload without the document's timestamps,
   * which come from the inserted row (`after.createdAt`, `after.updatedAt`, as toISOString()).
   */
  async insertWithEvent(
    db: Writable,
    def: CollectionDef,
    doc: { id: string; data: Record<string, unknown>; ownerId: string | null; acl: Acl | null },
    event: Record<string, unknown> & { after: Record<string, unknown> },
  ): Promise<DocRow> {
    const { after, ...rest } = event;
    const rows = await runWithOutbox<DocRow>(db, {
      name: statementName('insert', def.name),
      text: `WITH d AS (
         INSERT INTO ${tableOf(def.name)} AS d (id, data, owner_id, acl, version, created_at, updated_at)
         VALUES ($1::uuid, $2::jsonb, $3::uuid, $4::jsonb, 1, clock_timestamp(), clock_timestamp())
         RETURNING ${COLUMNS}
       ), ${outboxCte(
         'd',
         'db.change',
         `$5::jsonb || jsonb_build_object('after', $6::jsonb || jsonb_build_object('createdAt', ${ISO('d.created_at')}, 'updatedAt', ${ISO('d.updated_at')}))`,
         '$7::text',
         "'create'",
       )}
       SELECT d.*, ${outboxEvented()} FROM d`,
      values: [doc.id, JSON.stringify(doc.data), doc.ownerId, doc.acl === null ? null : JSON.stringify(doc.acl), JSON.stringify(rest), JSON.stringify(after), def.name],
    });
    return rows[0]!;
  }

  /**
   * Writes new data/acl and bumps the version (the row was locked by findReadable(..., forUpdate)),
   * with its `db.change` outbox event in the same statement (when a function subscribes); `after.updatedAt` comes from the row.
   */
  async updateWithEvent(
    tx: Tx,
    def: CollectionDef,
    id: string,
    data: Record<string, unknown>,
    acl: Acl | null,
    event: Record<string, unknown> & { after: Record<string, unknown> },
  ): Promise<DocRow> {
    const { after, ...rest } = event;
    const rows = await runWithOutbox<DocRow>(tx, {
      name: statementName('update', def.name),
      text: `WITH d AS (
         UPDATE ${tableOf(def.name)} AS d SET data = $2::jsonb, acl = $3::jsonb, version = d.version + 1, updated_at = clock_timestamp()
          WHERE d.id = $1::uuid RETURNING ${COLUMNS}
       ), ${outboxCte(
         'd',
         'db.change',
         `$4::jsonb || jsonb_build_object('after', $5::jsonb || jsonb_build_object('version', d.version, 'updatedAt', ${ISO('d.updated_at')}))`,
         '$6::text',
         "'update'",
       )}
       SELECT d.*, ${outboxEvented()} FROM d`,
      values: [id, JSON.stringify(data), acl === null ? null : JSON.stringify(acl), JSON.stringify(rest), JSON.stringify(after), def.name],
    });
    return rows[0]!;
  }

  /**
   * A PATCH in ONE statement (one round trip, no BEGIN/COMMIT, no lock held across round
   * trips): the row is locked and checked (readable, the update rule and the acl's write list,
   * If-Match, acl ownership) by the CTE `o`, merged by Postgres (`data || set - unset`), and its
   * `db.change` event (when a function subscribes) is built from the old and new row in the same
   * statement, as `update` writes it. Under a concurrent write to the row, FOR UPDATE waits and
   * rechecks the predicate on the newest version, so the merge, the checks and `before` all see
   * the row this write replaces: concurrent PATCHes of one document queue on the row and all
   * apply (a snapshot read with `UPDATE … WHERE version unchanged` costs the same and loses
   * races: bench/update-shapes.mjs). Undefined when no row qualified (missing, not readable, not
   * writable, another version, or a rule that allows nothing here): the caller then answers
   * through the locking path, which tells 404, 401/403 and 412 apart.
   */
  async patchInOne(db: Writable, def: CollectionDef, caller: Caller, p: OneStatementPatch): Promise<{ before: DocRow; after: DocRow } | undefined> {
    const params = new Params();
    const where = this.writableSql(def, caller, 'update', { method: 'PATCH' }, params, p.id, p.version);
    if (where === undefined) return undefined;
    let setAcl = '';
    if (p.acl !== undefined) {
      if (!isAdmin(caller)) {
        if (caller.kind !== 'user') return undefined;
        where.push(`d.owner_id = ${params.add(caller.userId, 'uuid')}`);
      }
      setAcl = `, acl = ${params.add(p.acl === null ? null : JSON.stringify(p.acl), 'jsonb')}`;
    }
    const fields = params.add(def.fields.map((f) => f.name), 'text[]');
    const oldDoc = docJsonSql('d', fields, { id: 'd.id', data: 'd.old_data', acl: 'd.old_acl', version: 'd.old_version', updatedAt: 'd.old_updated_at' });
    const newDoc = docJsonSql('d', fields, { id: params.add(p.id, 'text'), data: 'd.data', acl: 'd.acl', version: 'd.version', updatedAt: 'd.updated_at' });
    const table = tableOf(def.name);
    const text = `WITH o AS (
         SELECT d.id, d.data, d.acl, d.version, d.updated_at FROM ${table} d WHERE ${where.join(' AND ')} FOR UPDATE
       ), d AS (
         UPDATE ${table} AS d SET data = (d.data || ${params.add(JSON.stringify(p.set), 'jsonb')}) - ${params.add(p.unset, 'text[]')}${setAcl},
                version = d.version + 1, updated_at = clock_timestamp()
           FROM o WHERE d.id = o.id
         RETURNING ${COLUMNS}, o.data AS old_data, o.acl AS old_acl, o.version AS old_version, o.updated_at AS old_updated_at
       ), ${outboxCte('d', 'db.change', `${params.add(JSON.stringify(p.event), 'jsonb')} || jsonb_build_object('before', ${oldDoc}, 'after', ${newDoc})`, params.add(def.name, 'text'), "'update'")}
       SELECT d.*, ${outboxEvented()} FROM d`;
    const rows = await runWithOutbox<DocRow & { old_data: Record<string, unknown>; old_acl: Acl | null; old_version: number; old_updated_at: Date }>(db, {
      name: textStatementName(text),
      text,
      values: params.values,
    });
    const row = rows[0];
    if (!row) return undefined;
    const { old_data, old_acl, old_version, old_updated_at, ...after } = row;
    return { before: { ...after, data: old_data, acl: old_acl, version: old_version, updated_at: old_updated_at }, after };
  }

  /**
   * A DELETE in ONE statement, with its `db.change` event built from the deleted row (when a
   * function subscribes), for a document no other collection references with an `onDelete`
   * action: the same checks as patchInOne (the delete rule). The deleted row, or undefined when
   * none qualified (the caller answers through the locking path).
   */
  async deleteInOne(db: Writable, def: CollectionDef, caller: Caller, id: string, version: number | undefined, event: Record<string, unknown>): Promise<DocRow | undefined> {
    const params = new Params();
    const where = this.writableSql(def, caller, 'delete', { method: 'DELETE' }, params, id, version);
    if (where === undefined) return undefined;
    const fields = params.add(def.fields.map((f) => f.name), 'text[]');
    const oldDoc = docJsonSql('d', fields, { id: 'd.id', data: 'd.data', acl: 'd.acl', version: 'd.version', updatedAt: 'd.updated_at' });
    const text = `WITH d AS (
         DELETE FROM ${tableOf(def.name)} AS d WHERE ${where.join(' AND ')} RETURNING ${COLUMNS}
       ), ${outboxCte('d', 'db.change', `${params.add(JSON.stringify(event), 'jsonb')} || jsonb_build_object('before', ${oldDoc})`, params.add(def.name, 'text'), "'delete'")}
       SELECT d.*, ${outboxEvented()} FROM d`;
    const rows = await runWithOutbox<DocRow>(db, { name: textStatementName(text), text, values: params.values });
    return rows[0];
  }

  /** The WHERE of a one-statement write of document `id`: readable, writable under `rule`, at `version`; undefined when nothing can qualify. */
  private writableSql(def: CollectionDef, caller: Caller, rule: 'update' | 'delete', ctx: RuleContext, params: Params, id: string, version: number | undefined): string[] | undefined {
    const where = [`d.id = ${params.add(id, 'uuid')}`];
    const read = readFilterSql(caller, def.rules.read, params, 'd', def);
    if (read === false) return undefined;
    const write = writeFilterSql(caller, def.rules[rule], params, 'd', def, ctx);
    if (write === false) return undefined;
    for (const part of [read, write]) if (part !== 'TRUE') where.push(part);
    if (version !== undefined) where.push(`d.version = ${params.add(version, 'int')}`);
    return where;
  }

  /** Whether a document of `def` references one of `ids` through `field` (onDelete: restrict). */
  async anyReferencing(db: Queryable, def: CollectionDef, field: string, ids: string[]): Promise<boolean> {
    const ref = fieldExpr({ name: field, type: 'reference' }, 'd').sql;
    const { rows } = await db.query(`SELECT 1 FROM ${tableOf(def.name)} d WHERE ${ref} = ANY($1::text[]) LIMIT 1`, [ids]);
    return rows.length > 0;
  }

  /** Deletes the documents of `def` that reference one of `ids` through `field` (onDelete: cascade); the deleted rows. */
  async deleteReferencing(db: Queryable, def: CollectionDef, field: string, ids: string[]): Promise<DocRow[]> {
    const ref = fieldExpr({ name: field, type: 'reference' }, 'd').sql;
    const { rows } = await db.query<DocRow>(`DELETE FROM ${tableOf(def.name)} d WHERE ${ref} = ANY($1::text[]) RETURNING ${COLUMNS}`, [ids]);
    return rows;
  }

  /** Removes `field` from the documents of `def` that reference one of `ids` (onDelete: setNull); each row before and after. */
  async unsetReferencing(db: Queryable, def: CollectionDef, field: string, ids: string[]): Promise<{ before: DocRow; after: DocRow }[]> {
    const ref = fieldExpr({ name: field, type: 'reference' }, 'd').sql;
    const { rows } = await db.query<DocRow & { old_data: Record<string, unknown>; old_version: number; old_updated_at: Date }>(
      `UPDATE ${tableOf(def.name)} AS d SET data = d.data - ${fieldLiteral(field)}, version = d.version + 1, updated_at = clock_timestamp()
         FROM (SELECT id, data AS old_data, version AS old_version, updated_at AS old_updated_at FROM ${tableOf(def.name)} d WHERE ${ref} = ANY($1::text[]) FOR UPDATE) o
        WHERE d.id = o.id
        RETURNING ${COLUMNS}, o.old_data, o.old_version, o.old_updated_at`,
      [ids],
    );
    return rows.map(({ old_data, old_version, old_updated_at, ...after }) => ({
      before: { ...after, data: old_data, version: old_version, updated_at: old_updated_at },
      after,
    }));
  }

  async delete(client: pg.PoolClient, def: CollectionDef, id: string): Promise<void> {
    await client.query(`DELETE FROM ${tableOf(def.name)} WHERE id = $1::uuid`, [id]);
  }

  /** Which of these user ids exist (reference fields to `users`). */
  async existingUserIds(db: Db, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db.selectFrom('users').select('id').where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.id));
  }

  /** The public view of users for expansion: id and email only. */
  async usersByIds(db: Db, ids: string[]): Promise<{ id: string; email: string }[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('users').select(['id', 'email']).where('id', 'in', ids).execute();
  }
}
