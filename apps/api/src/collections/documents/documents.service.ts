import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { type EventPayloads, writeOutboxSql } from '#libs/events';
import { actorOf, type Caller, isAdmin } from '../../auth/caller.js';
import { AppException, type ErrorDetail } from '../../common/app-exception.js';
import { CollectionsService } from '../collections.service.js';
import { ChangeFeed, type FeedRow } from '../../realtime/change-feed.js';
import { type CollectionDef, isSystemField, type Rule, USERS_TARGET } from '../definition.js';
import { indexSpecs } from '../ddl.js';
import { canRead, canWrite, ruleAllows } from '../permissions.js';
import { Params } from '../sql.js';
import { checkWrite, UUID, type WriteMode } from '../values.js';
import { type Db, type DocRow, DocumentsRepository } from './documents.repository.js';
import { compileFilter, FilterError, parseFilter } from './filter.js';
import { decodeCursor, encodeCursor, PagingError, parseSort, type SortKey } from './paging.js';

/** A document as clients see it: its fields, flat, beside the system fields. */
export type Doc = Record<string, unknown> & { id: string; version: number };

export interface ListOptions {
  filter?: string;
  sort?: string;
  limit: number;
  cursor?: string;
  count?: boolean;
  fields?: string;
  expand?: string;
}

export interface ReadOptions {
  fields?: string;
  expand?: string;
}

/** `If-Match` parsed: a version, `*` (any), or a value no version can match. */
export type IfMatch = number | '*' | 'never';

export const MAX_EXPAND = 5;
export const MAX_PROJECTION = 100;

/** The client's view of a row, without its timestamps (declared fields only: values of removed fields stay stored, hidden). */
function docBody(def: Pick<CollectionDef, 'fields'>, row: Omit<DocRow, 'created_at' | 'updated_at'>): Record<string, unknown> {
  const doc: Record<string, unknown> = { id: row.id };
  for (const field of def.fields) {
    if (Object.hasOwn(row.data, field.name)) doc[field.name] = row.data[field.name];
  }
  doc.ownerId = row.owner_id;
  doc.acl = row.acl;
  doc.version = row.version;
  return doc;
}

/** The client's view of a stored row. */
export function toDoc(def: Pick<CollectionDef, 'fields'>, row: DocRow): Doc {
  const doc = docBody(def, row);
  doc.createdAt = row.created_at.toISOString();
  doc.updatedAt = row.updated_at.toISOString();
  return doc as Doc; // docBody always sets id and version
}

/** A stored row as the change feed carries it. */
export function toFeedRow(row: DocRow): FeedRow {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

/** A row read back from the feed, in the repository's shape. */
export function fromFeedRow(row: FeedRow): DocRow {
  return { ...row, created_at: new Date(row.created_at), updated_at: new Date(row.updated_at) };
}

/** Keeps the projected fields (`fields=`) of a document; id and version always stay. */
function projectFields(doc: Doc, names: string[]): Doc {
  const keep = new Set(['id', 'version', ...names]);
  return Object.fromEntries(Object.entries(doc).filter(([k]) => keep.has(k))) as Doc;
}

/** A filter text or object checked against a definition: INVALID_FILTER (400) when it is not valid. */
export function checkedFilter(def: CollectionDef, filter: string | Record<string, unknown>): Record<string, unknown> {
  try {
    const parsed = parseFilter(typeof filter === 'string' ? filter : JSON.stringify(filter));
    compileFilter(def, parsed, new Params());
    return parsed;
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    // The path echoes client input: bounded, so an 8 KB key does not come back whole.
    const path = `filter${err.path === 'filter' ? '' : `.${err.path}`}`.slice(0, 200);
    throw new AppException(400, 'INVALID_FILTER', `The filter is not valid: ${err.message}`, [{ path, message: err.message }]);
  }
}

export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value);
  return m ? Number(m[1]) : 'never';
}

function notFound(): AppException {
  // Exactly the same answer for a missing document and one the caller may not read.
  return new AppException(404, 'NOT_FOUND', 'The document was not found');
}

function denied(caller: Caller): AppException {
  return caller.kind === 'anonymous'
    ? new AppException(401, 'UNAUTHENTICATED', 'Sign in or send a service key')
    : new AppException(403, 'FORBIDDEN', 'You may not do this');
}

/** The SQLSTATE and constraint name of a pg error (nothing for other errors). */
function pgCode(err: unknown): { code?: string; constraint?: string } {
  if (typeof err !== 'object' || err === null) return {};
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const constraint = 'constraint' in err && typeof err.constraint === 'string' ? err.constraint : undefined;
  return { code, constraint };
}

@Injectable()
export class DocumentsService {
  constructor(
    private readonly collections: CollectionsService,
    private readonly repo: DocumentsRepository,
    private readonly feed: ChangeFeed,
  ) {}

  /**
   * What a GET by this caller would show of a stored row right now, or null where GET answers
   * 404: every given rule (`read`, and `list` for live lists) and the document's acl, through
   * the permission code of all reads (permissions.ts), then the GET view (declared fields
   * only: removed fields stay hidden) and the `fields` projection. Realtime checks every event
   * for every subscriber through this one function.
   */
  viewAs(caller: Caller, def: CollectionDef, row: DocRow, rules: Rule[], fields?: string[]): Doc | null {
    const access = { ownerId: row.owner_id, acl: row.acl };
    if (!rules.every((rule) => canRead(caller, rule, access))) return null;
    const doc = toDoc(def, row);
    return fields ? projectFields(doc, fields) : doc;
  }

  /** Publishes a committed change to realtime subscribers (nothing when no replica has any). */
  private published(db: Db, def: CollectionDef, op: 'create' | 'update' | 'delete', before: DocRow | null, after: DocRow | null): void {
    if (!this.feed.hasInterest(def.name)) return;
    this.repo.afterCommit(db, () => this.feed.publish(def.name, { op, before: before && toFeedRow(before), after: after && toFeedRow(after) }));
  }

  async get(caller: Caller, collection: string, id: string, options: ReadOptions = {}, client?: pg.PoolClient): Promise<Doc> {
    const def = await this.collections.require(collection);
    const { project, expand } = this.readShape(def, options);
    const row = await this.repo.findReadable(client ?? this.repo.pool, def, caller, def.rules.read, id);
    if (!row) throw notFound();
    const [doc] = await this.shape(caller, def, [toDoc(def, row)], project, expand, client ?? this.repo.pool);
    return doc!;
  }

  async list(caller: Caller, collection: string, options: ListOptions): Promise<{ items: Doc[]; nextCursor: string | null; count?: number }> {
    const def = await this.collections.require(collection);
    const { project, expand } = this.readShape(def, options);
    let filter: Record<string, unknown> | undefined;
    let sort: SortKey[];
    let after: (string | null)[] | undefined;
    try {
      // Checked here so a bad filter is a 400 whatever the caller may see.
      filter = options.filter === undefined ? undefined : checkedFilter(def, options.filter);
      sort = parseSort(def, options.sort);
      after = options.cursor === undefined ? undefined : decodeCursor(sort, options.cursor);
    } catch (err) {
      if (err instanceof PagingError) {
        throw new AppException(400, err.param === 'sort' ? 'INVALID_SORT' : 'INVALID_CURSOR', `The ${err.param} is not valid: ${err.message}`, [{ path: err.param, message: err.message }]);
      }
      throw err;
    }
    const pool = this.repo.pool;
    const [rows, count] = await Promise.all([
      this.repo.list(pool, def, caller, { filter, sort, after, limit: options.limit + 1 }),
      options.count ? this.repo.count(pool, def, caller, filter) : Promise.resolve(undefined),
    ]);
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > options.limit && last ? encodeCursor(sort, sort.map((_, i) => last[`s${i}`] ?? null)) : null;
    const items = await this.shape(caller, def, page.map((r) => toDoc(def, r)), project, expand, pool);
    return count === undefined ? { items, nextCursor } : { items, nextCursor, count };
  }

  async create(caller: Caller, collection: string, body: Record<string, unknown>, client?: pg.PoolClient): Promise<Doc> {
    const def = await this.collections.require(collection);
    const ownerId = caller.kind === 'user' ? caller.userId : null;
    if (!ruleAllows(caller, def.rules.create, ownerId)) throw denied(caller);
    const checked = this.checkBody(def, body, 'create');
    const id = randomUUID();
    const acl = checked.acl ?? null;
    // The event's document is the row's; the row's timestamps are filled in by the statement.
    const event = {
      collection: def.name,
      operation: 'create',
      documentId: id,
      before: null,
      after: docBody(def, { id, data: checked.set, owner_id: ownerId, acl, version: 1 }),
      actor: actorOf(caller),
    } satisfies Omit<EventPayloads['db.change'], 'after'> & { after: Record<string, unknown> };
    const insert = async (db: Db) => {
      const row = await this.repo.insertWithEvent(db, def, { id, data: checked.set, ownerId, acl }, event);
      this.published(db, def, 'create', null, row);
      return toDoc(def, row);
    };
    // Without references to check, the insert and its event are one atomic statement: no
    // transaction round trips (measured in bench/README.md).
    if (!client && !this.hasReferences(def, checked.set)) return this.mappingWriteErrors(def, () => insert(this.repo.pool));
    return this.writing(def, client, async (tx) => {
      await this.checkReferences(tx, caller, def, checked.set);
      return insert(tx);
    });
  }

  /** PUT (replace: the body is the whole new document) or PATCH (merge: null removes a field). */
  async update(
    caller: Caller,
    collection: string,
    id: string,
    body: Record<string, unknown>,
    mode: Exclude<WriteMode, 'create'>,
    ifMatch: IfMatch | undefined,
    client?: pg.PoolClient,
  ): Promise<Doc> {
    const def = await this.collections.require(collection);
    const checked = this.checkBody(def, body, mode);
    return this.writing(def, client, async (tx) => {
      const row = await this.lockWritable(tx, caller, def, id, 'update', ifMatch);
      if (checked.acl !== undefined && !this.mayChangeAcl(caller, row)) {
        throw new AppException(403, 'ACL_FORBIDDEN', 'Only the owner of the document or an admin may change its acl');
      }
      let data: Record<string, unknown>;
      if (mode === 'replace') {
        data = checked.set;
      } else {
        data = { ...row.data, ...checked.set };
        for (const key of checked.unset) delete data[key];
      }
      await this.checkReferences(tx, caller, def, checked.set);
      const acl = checked.acl !== undefined ? checked.acl : row.acl;
      // One statement writes the row and its event; version and updatedAt come from the row.
      const updated = await this.repo.updateWithEvent(tx, def, id, data, acl, {
        collection: def.name,
        operation: 'update',
        documentId: id,
        before: toDoc(def, row),
        after: { ...docBody(def, { id, data, owner_id: row.owner_id, acl, version: row.version + 1 }), createdAt: row.created_at.toISOString() },
        actor: actorOf(caller),
      });
      this.published(tx, def, 'update', row, updated);
      return toDoc(def, updated);
    });
  }

  async remove(caller: Caller, collection: string, id: string, ifMatch: IfMatch | undefined, client?: pg.PoolClient): Promise<void> {
    const def = await this.collections.require(collection);
    await this.writing(def, client, async (tx) => {
      const row = await this.lockWritable(tx, caller, def, id, 'delete', ifMatch);
      await this.repo.delete(tx, def, id);
      await writeOutboxSql(tx, 'db.change', {
        collection: def.name,
        operation: 'delete',
        documentId: id,
        before: toDoc(def, row),
        after: null,
        actor: actorOf(caller),
      });
      this.published(tx, def, 'delete', row, null);
    });
  }

  /** Runs a write in its own transaction (or the batch's), answering unique violations per field. */
  private async writing<T>(def: CollectionDef, client: pg.PoolClient | undefined, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.mappingWriteErrors(def, () => this.repo.transaction(work, client));
  }

  private hasReferences(def: CollectionDef, values: Record<string, unknown>): boolean {
    return def.fields.some((f) => f.type === 'reference' && typeof values[f.name] === 'string');
  }

  /** Unique violations become 409 CONFLICT, deadlocks and serialization failures 409 TRANSACTION_CONFLICT. */
  private async mappingWriteErrors<T>(def: CollectionDef, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      const { code, constraint } = pgCode(err);
      if (code === '23505' && constraint) {
        const spec = indexSpecs(def).find((s) => s.name === constraint);
        throw new AppException(
          409,
          'CONFLICT',
          'Another document already has this value',
          (spec?.fields ?? ['unknown']).map((path) => ({ path, message: 'must be unique' })),
        );
      }
      if (code === '40P01' || code === '40001') {
        throw new AppException(409, 'TRANSACTION_CONFLICT', 'The write conflicted with a concurrent one; retry it');
      }
      throw err;
    }
  }

  /**
   * The row to update or delete, locked: 404 when the caller cannot read it (as if missing),
   * 401/403 when they can read but not write it, 412 when If-Match names another version.
   */
  private async lockWritable(tx: pg.PoolClient, caller: Caller, def: CollectionDef, id: string, op: 'update' | 'delete', ifMatch: IfMatch | undefined): Promise<DocRow> {
    const row = await this.repo.findReadable(tx, def, caller, def.rules.read, id, true);
    if (!row) throw notFound();
    if (!canWrite(caller, def.rules[op], { ownerId: row.owner_id, acl: row.acl })) throw denied(caller);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== row.version) {
      throw new AppException(412, 'PRECONDITION_FAILED', `The document is at version ${row.version}, not the one in If-Match`);
    }
    return row;
  }

  private mayChangeAcl(caller: Caller, row: DocRow): boolean {
    return isAdmin(caller) || (caller.kind === 'user' && row.owner_id === caller.userId);
  }

  private checkBody(def: CollectionDef, body: Record<string, unknown>, mode: WriteMode) {
    const checked = checkWrite(def, body, mode);
    if (!checked.ok) throw new AppException(400, 'VALIDATION_FAILED', 'The document is not valid', checked.details);
    return checked.value;
  }

  /**
   * Reference fields must name a document that exists and that the caller may read (a
   * document they may not read answers as missing), or an existing user.
   */
  private async checkReferences(db: Db, caller: Caller, def: CollectionDef, values: Record<string, unknown>): Promise<void> {
    const details: ErrorDetail[] = [];
    for (const field of def.fields) {
      const value = values[field.name];
      if (field.type !== 'reference' || typeof value !== 'string') continue;
      let found: boolean;
      if (field.collection === USERS_TARGET) {
        found = (await this.repo.existingUserIds(db, [value])).has(value);
      } else {
        const target = await this.collections.definition(field.collection!);
        found = target !== undefined && (await this.repo.findReadableMany(db, target, caller, [value])).length > 0;
      }
      if (!found) details.push({ path: field.name, message: `references a missing ${field.collection === USERS_TARGET ? 'user' : 'document'}` });
    }
    if (details.length) throw new AppException(400, 'VALIDATION_FAILED', 'The document is not valid', details);
  }

  /** Validates `fields` and `expand`. */
  readShape(def: CollectionDef, options: ReadOptions): { project?: string[]; expand: string[] } {
    const names = (value: string | undefined) =>
      value === undefined
        ? undefined
        : value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    const bad = (param: string, message: string) => new AppException(400, 'INVALID_FIELDS', `The ${param} parameter is not valid: ${message}`, [{ path: param, message }]);
    const declared = new Set(def.fields.map((f) => f.name));
    const project = names(options.fields);
    if (project) {
      if (project.length > MAX_PROJECTION) throw bad('fields', `names more than ${MAX_PROJECTION} fields`);
      for (const name of project) {
        if (!declared.has(name) && !isSystemField(name)) throw bad('fields', `"${name.slice(0, 64)}" is not a field of this collection`);
      }
    }
    const expand = names(options.expand) ?? [];
    if (expand.length > MAX_EXPAND) throw bad('expand', `names more than ${MAX_EXPAND} fields`);
    for (const name of expand) {
      if (def.fields.find((f) => f.name === name)?.type !== 'reference') throw bad('expand', `"${name.slice(0, 64)}" is not a reference field`);
    }
    return { project, expand: [...new Set(expand)] };
  }

  /** Applies projection, then replaces expanded references by the documents the caller may read (null otherwise). */
  private async shape(caller: Caller, def: CollectionDef, docs: Doc[], project: string[] | undefined, expand: string[], db: Db): Promise<Doc[]> {
    let out = docs;
    // id and version always stay: they address the document and its ETag.
    if (project) out = docs.map((doc) => projectFields(doc, [...project, ...expand]));
    for (const name of expand) {
      const field = def.fields.find((f) => f.name === name)!;
      const ids = [...new Set(out.map((d) => d[name]).filter((v): v is string => typeof v === 'string' && UUID.test(v)))];
      const found = new Map<string, unknown>();
      if (field.collection === USERS_TARGET) {
        // Users are readable by themselves and by admins only.
        const visible = isAdmin(caller) ? ids : caller.kind === 'user' ? ids.filter((i) => i === caller.userId) : [];
        for (const user of await this.repo.usersByIds(db, visible)) found.set(user.id, user);
      } else {
        const target = await this.collections.definition(field.collection!);
        if (target) for (const row of await this.repo.findReadableMany(db, target, caller, ids)) found.set(row.id, toDoc(target, row));
      }
      for (const doc of out) {
        if (Object.hasOwn(doc, name)) doc[name] = found.get(doc[name] as string) ?? null;
      }
    }
    return out;
  }
}
