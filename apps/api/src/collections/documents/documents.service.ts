import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { pgErrorOf, type Tx, withTransaction } from '#libs/database';
import { type EventPayloads, writeOutbox } from '#libs/events';
import { actorOf, type Caller, isAdmin } from '../../auth/caller.js';
import { AppException, conflict, type ErrorDetail, forbidden, notFound, validationFailed } from '../../common/app-exception.js';
import { pageOf } from '../../common/paging.js';
import { CollectionsService } from '../collections.service.js';
import { ChangeFeed } from '../../realtime/change-feed.js';
import { type CollectionDef, type Rule, USERS_TARGET } from '../definition.js';
import { indexSpecs } from '../ddl.js';
import { aclAllows, canCreate, canRead, canWrite, type DocAccess, ruleAllows } from '../permissions.js';
import { READ_CONTEXT, type RuleContext, ruleItems, ruleNeedsSql } from '../rules.js';
import { Params, searchSql } from '../sql.js';
import { checkWrite, UUID, type WriteMode } from '../values.js';
import { accessOf, type Doc, docBody, toDoc, toFeedRow } from './doc-view.js';
import { type DocRow, DocumentsRepository, type Queryable } from './documents.repository.js';
import { DocumentExpansion } from './expansion.js';
import { compileFilter, FilterError, parseFilter } from './filter.js';
import { indexAdvice } from './index-advice.js';
import { cursorAfter, cursorValues, parseSort, RANK } from './paging.js';
import { projected, projectFields, type ReadOptions, readShape, type ReadShape } from './projection.js';

export interface ListOptions {
  filter?: string;
  sort?: string;
  limit: number;
  cursor?: string;
  count?: boolean;
  fields?: string;
  expand?: string;
}

/** `If-Match` parsed: a version, `*` (any), or a value no version can match. */
export type IfMatch = number | '*' | 'never';

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

/** Runs a read; a statement timeout becomes 503 QUERY_TIMEOUT with the index advice as details. */
async function withAdvice<T>(advice: string[], read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (pgErrorOf(err)?.code !== '57014') throw err;
    throw new AppException(
      503,
      'QUERY_TIMEOUT',
      'The query took too long and was stopped; narrow the filter or add an index',
      advice.map((message) => ({ path: 'filter', message })),
    );
  }
}

/**
 * Whether a rule may read `@data` (the document as the write leaves it): then a PATCH takes the
 * locking path, which knows the merged document before it writes. Conservative (any string
 * starting so, keys included); `@@data` is a literal and does not match.
 */
function mentionsData(rule: Rule): boolean {
  return JSON.stringify(rule).includes('"@data');
}

function documentNotFound(): AppException {
  // Exactly the same answer for a missing document and one the caller may not read.
  return notFound('DOCUMENT_NOT_FOUND', 'The document was not found');
}

function denied(caller: Caller): AppException {
  return caller.kind === 'anonymous'
    ? new AppException(401, 'UNAUTHENTICATED', 'Sign in or send a service key')
    : forbidden('You may not do this');
}

@Injectable()
export class DocumentsService {
  constructor(
    private readonly collections: CollectionsService,
    private readonly repo: DocumentsRepository,
    private readonly feed: ChangeFeed,
    private readonly expansion: DocumentExpansion,
  ) {}

  /**
   * What a GET by this caller would show of a stored row right now, or null where GET answers
   * 404: every given rule (`read`, and `list` for live lists) and the document's acl, through
   * the permission code of all reads (permissions.ts), then the GET view (declared fields
   * only: removed fields stay hidden) and the `fields` projection. Realtime checks every event
   * for every subscriber through this one function. A rule that reads referenced documents
   * (`team.members`) and does not allow in code is asked of Postgres, over the row as given
   * (one query: DocumentsRepository.ruleHolds), with the referenced rows as they are now.
   */
  async viewAs(caller: Caller, def: CollectionDef, row: DocRow, rules: Rule[], fields?: string[]): Promise<Doc | null> {
    const access = accessOf(row);
    for (const rule of rules) {
      if (canRead(caller, rule, access, def)) continue;
      if (!ruleNeedsSql(rule, def) || !aclAllows(caller, row.acl, row.owner_id, 'read')) return null;
      if (!(await this.repo.ruleHolds(this.repo.readPool, def, caller, rule, READ_CONTEXT, { row }))) return null;
    }
    const doc = toDoc(def, row);
    return fields ? projectFields(doc, fields) : doc;
  }

  /**
   * Publishes a change to realtime subscribers (nothing when no replica has any) once it is
   * committed: at COMMIT of `tx`, at once for a single-statement write (no `tx`: autocommit).
   */
  private published(tx: Tx | undefined, def: CollectionDef, op: 'create' | 'update' | 'delete', before: DocRow | null, after: DocRow | null): void {
    if (!this.feed.hasInterest(def.name)) return;
    const publish = () => this.feed.publish(def.name, { op, before: before && toFeedRow(before), after: after && toFeedRow(after) });
    if (tx) tx.afterCommit(publish);
    else publish();
  }

  async get(caller: Caller, collection: string, id: string, options: ReadOptions = {}, tx?: Tx): Promise<Doc> {
    const read = await this.readOne(caller, collection, id, options, tx);
    return this.shapeOne(caller, read, tx);
  }

  /**
   * The document, or only its version when the caller's copy (`isCurrent`, from
   * `If-None-Match`) is current: the read check has run, nothing is shaped or serialized.
   */
  async getUnlessCurrent(caller: Caller, collection: string, id: string, options: ReadOptions, isCurrent: (version: number) => boolean): Promise<Doc | number> {
    const read = await this.readOne(caller, collection, id, options);
    return isCurrent(read.row.version) ? read.row.version : this.shapeOne(caller, read);
  }

  private async readOne(caller: Caller, collection: string, id: string, options: ReadOptions, tx?: Tx) {
    const def = await this.collections.require(collection);
    const shape = readShape(def, options);
    const row = await this.repo.findReadable(tx?.client ?? this.repo.readPool, def, caller, def.rules.read, id);
    if (!row) throw documentNotFound();
    return { def, shape, row };
  }

  private async shapeOne(caller: Caller, { def, shape, row }: Awaited<ReturnType<DocumentsService['readOne']>>, tx?: Tx): Promise<Doc> {
    const [doc] = await this.shape(caller, def, [toDoc(def, row)], shape, tx);
    return doc!;
  }

  /**
   * A page of documents. `advice` lists what of the filter and sort no index serves (the
   * controller sends it as X-Index-Advice; a QUERY_TIMEOUT carries it as details).
   */
  async list(caller: Caller, collection: string, options: ListOptions): Promise<{ page: { items: Doc[]; nextCursor: string | null; count?: number }; advice: string[] }> {
    const def = await this.collections.require(collection);
    const shape = readShape(def, options);
    // Checked here so a bad filter is a 400 whatever the caller may see.
    const filter = options.filter === undefined ? undefined : checkedFilter(def, options.filter);
    // Relevance: `$rank` sorts by the top-level $search, and is the default order when there is one.
    const searchText = typeof filter?.$search === 'string' ? filter.$search : undefined;
    // Fresh params: the text is `$1`, as buildListQuery binds it first.
    const rank = searchText === undefined ? undefined : searchSql(def, searchText, new Params())?.rank;
    const sort = parseSort(def, options.sort ?? (rank ? `-${RANK}` : undefined), 'd', rank);
    const after = options.cursor === undefined ? undefined : cursorValues(sort, options.cursor);
    const pool = this.repo.readPool;
    const advice = indexAdvice(def, filter, sort);
    const [rows, count] = await withAdvice(advice, () =>
      Promise.all([
        this.repo.list(pool, def, caller, { filter, sort, after, limit: options.limit + 1, rankedSearch: sort.some((k) => k.name === RANK) ? searchText : undefined }),
        options.count ? this.repo.count(pool, def, caller, filter) : Promise.resolve(undefined),
      ]),
    );
    const { items: page, nextCursor } = pageOf(rows, options.limit, (last) => cursorAfter(sort, last));
    const items = await this.shape(caller, def, page.map((r) => toDoc(def, r)), shape);
    return { page: count === undefined ? { items, nextCursor } : { items, nextCursor, count }, advice };
  }

  /**
   * Creates a document. Its id is the body's `id` when the client chose one (a UUID; 409
   * CONFLICT when taken), else a new random UUID.
   */
  async create(caller: Caller, collection: string, input: Record<string, unknown>, outer?: Tx): Promise<Doc> {
    const def = await this.collections.require(collection);
    const { id: chosen, ...body } = input;
    if (chosen !== undefined && (typeof chosen !== 'string' || !UUID.test(chosen))) {
      throw validationFailed('The document is not valid', [{ path: 'id', message: 'must be a UUID' }]);
    }
    const ownerId = caller.kind === 'user' ? caller.userId : null;
    const rule = def.rules.create;
    // One-word rules answer before the body is read; expressions need the document.
    if (ruleItems(rule).every((item) => typeof item === 'string') && !ruleAllows(caller, rule, { ownerId, acl: null })) throw denied(caller);
    const checked = this.checkBody(def, body, 'create');
    const id = typeof chosen === 'string' ? chosen.toLowerCase() : randomUUID();
    const acl = checked.acl ?? null;
    if (!(await this.mayCreate(caller, def, { id, ownerId, acl, data: checked.set }, outer?.client))) throw denied(caller);
    // The event's document is the row's; the row's timestamps are filled in by the statement.
    const event = {
      collection: def.name,
      operation: 'create',
      documentId: id,
      before: null,
      after: docBody(def, { id, data: checked.set, owner_id: ownerId, acl, version: 1 }),
      actor: actorOf(caller),
    } satisfies Omit<EventPayloads['db.change'], 'after'> & { after: Record<string, unknown> };
    const insert = async (tx?: Tx) => {
      const row = await this.repo.insertWithEvent(tx ?? this.repo.pool, def, { id, data: checked.set, ownerId, acl }, event);
      this.published(tx, def, 'create', null, row);
      return toDoc(def, row);
    };
    // Without references to check, the insert and its event are one atomic statement: no
    // transaction round trips (measured in bench/README.md).
    if (!outer && !this.hasReferences(def, checked.set)) return this.mappingWriteErrors(def, () => insert());
    return this.writing(def, outer, async (tx) => {
      await this.checkReferences(tx, caller, def, checked.set);
      return insert(tx);
    });
  }

  /**
   * PUT: replaces the document, or creates it with this id when there is none (if the create
   * rule allows; `created` tells which). A document that exists but that the caller may not
   * read answers 404, as for any write; an If-Match on a missing document answers 412.
   */
  async upsert(
    caller: Caller,
    collection: string,
    id: string,
    body: Record<string, unknown>,
    ifMatch: IfMatch | undefined,
    outer?: Tx,
  ): Promise<{ doc: Doc; created: boolean }> {
    const def = await this.collections.require(collection);
    return this.writing(def, outer, async (tx) => {
      if (await this.repo.findReadable(tx.client, def, caller, def.rules.read, id, true)) {
        return { doc: await this.update(caller, collection, id, body, 'replace', ifMatch, tx), created: false };
      }
      if (await this.repo.exists(tx.client, def, id)) throw documentNotFound();
      if (ifMatch !== undefined) throw new AppException(412, 'PRECONDITION_FAILED', 'The document does not exist, so If-Match cannot match');
      return { doc: await this.create(caller, collection, { ...body, id }, tx), created: true };
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
    outer?: Tx,
  ): Promise<Doc> {
    const def = await this.collections.require(collection);
    const checked = this.checkBody(def, body, mode);
    const next = (row: DocRow): Record<string, unknown> => {
      if (mode === 'replace') return checked.set;
      const merged = { ...row.data, ...checked.set };
      for (const key of checked.unset) delete merged[key];
      return merged;
    };
    if (!outer && mode === 'patch' && ifMatch !== 'never' && !this.hasReferences(def, checked.set) && !mentionsData(def.rules.update)) {
      // The common PATCH: one statement checks, merges, writes and records its event (measured
      // in docs/decisions.md). When it writes nothing, the locking path below answers (or writes).
      const done = await this.mappingWriteErrors(def, () =>
        this.repo.patchInOne(this.repo.pool, def, caller, {
          id,
          set: checked.set,
          unset: checked.unset,
          ...(checked.acl !== undefined ? { acl: checked.acl } : {}),
          ...(typeof ifMatch === 'number' ? { version: ifMatch } : {}),
          event: { collection: def.name, operation: 'update', documentId: id, actor: actorOf(caller) },
        }),
      );
      if (done) {
        this.published(undefined, def, 'update', done.before, done.after);
        return toDoc(def, done.after);
      }
    }
    return this.writing(def, outer, async (tx) => {
      const row = await this.lockWritable(tx, caller, def, id, ifMatch, (stored) =>
        this.mayWrite(tx, caller, def, 'update', stored, {
          method: mode === 'replace' ? 'PUT' : 'PATCH',
          data: { ...next(stored), id, ownerId: stored.owner_id },
        }),
      );
      if (checked.acl !== undefined && !this.mayChangeAcl(caller, row)) {
        throw forbidden('Only the owner of the document or an admin may change its acl', 'ACL_FORBIDDEN');
      }
      const data = next(row);
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

  async remove(caller: Caller, collection: string, id: string, ifMatch: IfMatch | undefined, outer?: Tx): Promise<void> {
    const def = await this.collections.require(collection);
    if (!outer && ifMatch !== 'never' && (await this.collections.referencing(def.name)).length === 0) {
      // Nothing to do to referencing documents: one statement checks, deletes and records its event.
      const deleted = await this.repo.deleteInOne(this.repo.pool, def, caller, id, typeof ifMatch === 'number' ? ifMatch : undefined, {
        collection: def.name,
        operation: 'delete',
        documentId: id,
        after: null,
        actor: actorOf(caller),
      });
      if (deleted) {
        this.published(undefined, def, 'delete', deleted, null);
        return;
      }
    }
    await this.writing(def, outer, async (tx) => {
      const row = await this.lockWritable(tx, caller, def, id, ifMatch, (stored) => this.mayWrite(tx, caller, def, 'delete', stored, { method: 'DELETE' }));
      await this.repo.delete(tx.client, def, id);
      await writeOutbox(tx, 'db.change', {
        collection: def.name,
        operation: 'delete',
        documentId: id,
        before: toDoc(def, row),
        after: null,
        actor: actorOf(caller),
      });
      this.published(tx, def, 'delete', row, null);
      await this.applyOnDelete(tx, caller, def, [id], new Set([`${def.name}/${id}`]));
    });
  }

  /**
   * What deleting documents of `def` does to the documents that reference them (`onDelete`),
   * in the delete's transaction and with a change event for every document it touches. Runs
   * as the system, like a foreign key: the deleting caller need not be able to read them.
   * Restrictions are checked before anything changes at this level; a cascade goes on through
   * the deleted documents' own referrers (a cycle ends: deleted documents are gone).
   */
  private async applyOnDelete(tx: Tx, caller: Caller, def: CollectionDef, ids: string[], seen: Set<string>): Promise<void> {
    if (ids.length === 0) return;
    const referrers = await this.collections.referencing(def.name);
    for (const { def: other, field } of referrers) {
      if (field.onDelete === 'restrict' && (await this.repo.anyReferencing(tx.client, other, field.name, ids))) {
        throw new AppException(409, 'DOCUMENT_REFERENCED', `Documents of "${other.name}" still reference this document`, [
          { path: `${other.name}.${field.name}`, message: 'references the document (onDelete: restrict)' },
        ]);
      }
    }
    const actor = actorOf(caller);
    for (const { def: other, field } of referrers) {
      if (field.onDelete === 'cascade') {
        const deleted = (await this.repo.deleteReferencing(tx.client, other, field.name, ids)).filter((row) => !seen.has(`${other.name}/${row.id}`));
        for (const row of deleted) {
          seen.add(`${other.name}/${row.id}`);
          await writeOutbox(tx, 'db.change', { collection: other.name, operation: 'delete', documentId: row.id, before: toDoc(other, row), after: null, actor });
          this.published(tx, other, 'delete', row, null);
        }
        await this.applyOnDelete(tx, caller, other, deleted.map((row) => row.id), seen);
      } else if (field.onDelete === 'setNull') {
        for (const { before, after } of await this.repo.unsetReferencing(tx.client, other, field.name, ids)) {
          await writeOutbox(tx, 'db.change', { collection: other.name, operation: 'update', documentId: after.id, before: toDoc(other, before), after: toDoc(other, after), actor });
          this.published(tx, other, 'update', before, after);
        }
      }
    }
  }

  /** Runs a write in its own transaction (or joins `outer`, a batch's), answering unique violations per field. */
  private async writing<T>(def: CollectionDef, outer: Tx | undefined, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.mappingWriteErrors(def, () => withTransaction(this.repo.pool, work, outer));
  }

  private hasReferences(def: CollectionDef, values: Record<string, unknown>): boolean {
    return def.fields.some((f) => f.type === 'reference' && typeof values[f.name] === 'string');
  }

  /** Unique violations become 409 CONFLICT, deadlocks and serialization failures 409 TRANSACTION_CONFLICT. */
  private async mappingWriteErrors<T>(def: CollectionDef, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      const { code, constraint } = pgErrorOf(err) ?? {};
      if (code === '23505' && constraint?.startsWith('pk-')) {
        throw new AppException(409, 'CONFLICT', 'A document with this id already exists', [{ path: 'id', message: 'is taken' }]);
      }
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
        throw conflict('TRANSACTION_CONFLICT', 'The write conflicted with a concurrent one; retry it');
      }
      throw err;
    }
  }

  /**
   * The row to update or delete, locked: 404 when the caller cannot read it (as if missing),
   * 401/403 when they can read but not write it, 412 when If-Match names another version.
   */
  private async lockWritable(
    tx: Tx,
    caller: Caller,
    def: CollectionDef,
    id: string,
    ifMatch: IfMatch | undefined,
    allowed: (row: DocRow) => Promise<boolean>,
  ): Promise<DocRow> {
    const row = await this.repo.findReadable(tx.client, def, caller, def.rules.read, id, true);
    if (!row) throw documentNotFound();
    if (!(await allowed(row))) throw denied(caller);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== row.version) {
      throw new AppException(412, 'PRECONDITION_FAILED', `The document is at version ${row.version}, not the one in If-Match`);
    }
    return row;
  }

  /**
   * The update or delete rule and the acl for a stored (locked) row: in code, or in SQL when
   * the rule reads referenced documents.
   */
  private async mayWrite(tx: Tx, caller: Caller, def: CollectionDef, op: 'update' | 'delete', row: DocRow, ctx: RuleContext): Promise<boolean> {
    const rule = def.rules[op];
    if (isAdmin(caller) || !ruleNeedsSql(rule, def)) return canWrite(caller, rule, accessOf(row), def, ctx);
    return aclAllows(caller, row.acl, row.owner_id, 'write') && (await this.repo.ruleHolds(tx.client, def, caller, rule, ctx, { id: row.id }));
  }

  /** The create rule for a new document: in code, or in SQL when it reads referenced documents. */
  private async mayCreate(caller: Caller, def: CollectionDef, doc: DocAccess & { id: string; data: Record<string, unknown> }, db?: Queryable): Promise<boolean> {
    const rule = def.rules.create;
    if (isAdmin(caller) || !ruleNeedsSql(rule, def)) return canCreate(caller, rule, doc, def);
    const data = { ...doc.data, id: doc.id, ownerId: doc.ownerId };
    return this.repo.ruleHolds(db ?? this.repo.pool, def, caller, rule, { method: 'POST', data }, { fresh: { id: doc.id, ownerId: doc.ownerId, data: doc.data } });
  }

  private mayChangeAcl(caller: Caller, row: DocRow): boolean {
    return isAdmin(caller) || (caller.kind === 'user' && row.owner_id === caller.userId);
  }

  private checkBody(def: CollectionDef, body: Record<string, unknown>, mode: WriteMode) {
    const checked = checkWrite(def, body, mode);
    if (!checked.ok) throw validationFailed('The document is not valid', checked.details);
    return checked.value;
  }

  /**
   * Reference fields must name a document that exists and that the caller may read (a
   * document they may not read answers as missing), or an existing user.
   */
  private async checkReferences(tx: Tx, caller: Caller, def: CollectionDef, values: Record<string, unknown>): Promise<void> {
    const details: ErrorDetail[] = [];
    for (const field of def.fields) {
      const value = values[field.name];
      if (field.type !== 'reference' || typeof value !== 'string') continue;
      let found: boolean;
      if (field.collection === USERS_TARGET) {
        found = (await this.repo.existingUserIds(tx.db, [value])).has(value);
      } else {
        const target = await this.collections.definition(field.collection!);
        found = target !== undefined && (await this.repo.findReadableMany(tx.client, target, caller, [value])).length > 0;
      }
      if (!found) details.push({ path: field.name, message: `references a missing ${field.collection === USERS_TARGET ? 'user' : 'document'}` });
    }
    if (details.length) throw validationFailed('The document is not valid', details);
  }

  /** The documents as the read's `fields` and `expand` show them. */
  private async shape(caller: Caller, def: CollectionDef, docs: Doc[], shape: ReadShape, tx?: Tx): Promise<Doc[]> {
    return this.expansion.expand(caller, def, projected(docs, shape), shape.expand, tx);
  }
}
