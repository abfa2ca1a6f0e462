import { type Caller, isAdmin, principalsOf } from '../auth/caller.js';
import type { CollectionDef, Rule } from './definition.js';
import { READ_CONTEXT, type RuleContext, ruleEval, ruleSql } from './rules.js';
import type { Params } from './sql.js';
import type { Acl } from './values.js';

/**
 * The permission model (docs/data.md, "Permissions"): a collection rule (a shorthand, an
 * expression, or a list of them: rules.ts) decides who may do an operation on which documents,
 * and a document's `acl` (when it has one) narrows who may read or write that document. The
 * owner of a document always passes its acl; admins and the service role pass everything. Two
 * forms of the same check: `canRead`/`canWrite`/`canCreate` in code (writes, change events) and
 * `readFilterSql` in SQL (get, list, count, expand, batch reads). Expression rules need the
 * collection definition (`def`) and the document's fields (`doc.data`); without `def` an
 * expression allows nothing. Shorthands need neither. For a change event's document (its
 * client view), `accessOfDoc(def, doc)` in documents/doc-view.ts gives the DocAccess.
 */

export type AclMode = 'read' | 'write';

/** What the rule says for this caller and document (acl aside). */
export function ruleAllows(caller: Caller, rule: Rule, doc: DocAccess, def?: Pick<CollectionDef, 'fields'>, ctx: RuleContext = READ_CONTEXT): boolean {
  if (isAdmin(caller)) return true;
  return ruleEval(caller, rule, { id: doc.id, ownerId: doc.ownerId, createdAt: doc.createdAt, updatedAt: doc.updatedAt, data: doc.data ?? {} }, def, ctx);
}

export function aclAllows(caller: Caller, acl: Acl | null, ownerId: string | null, mode: AclMode): boolean {
  if (isAdmin(caller)) return true;
  const list = acl?.[mode];
  if (!list) return true;
  if (caller.kind === 'user' && ownerId !== null && ownerId === caller.userId) return true;
  const mine = new Set(principalsOf(caller));
  return list.some((entry) => mine.has(entry));
}

/** What a permission check reads of a document: its owner and acl, and for expression rules its fields and system values. */
export interface DocAccess {
  ownerId: string | null;
  acl: Acl | null;
  id?: string;
  data?: Record<string, unknown>;
  createdAt?: Date | string;
  updatedAt?: Date | string;
}

/** May the caller read this document under this rule (`read` for get/expand, `list` for list/count)? */
export function canRead(caller: Caller, rule: Rule, doc: DocAccess, def?: Pick<CollectionDef, 'fields'>): boolean {
  return ruleAllows(caller, rule, doc, def) && aclAllows(caller, doc.acl, doc.ownerId, 'read');
}

/**
 * May the caller update or delete this stored document under this rule? For an update, `ctx`
 * carries the method and the document as the write leaves it (`@data`).
 */
export function canWrite(caller: Caller, rule: Rule, doc: DocAccess, def?: Pick<CollectionDef, 'fields'>, ctx: RuleContext = { method: 'DELETE' }): boolean {
  return ruleAllows(caller, rule, doc, def, ctx) && aclAllows(caller, doc.acl, doc.ownerId, 'write');
}

/** May the caller create this document (the rule's fields and `@data` are both the new document)? */
export function canCreate(caller: Caller, rule: Rule, doc: DocAccess, def: Pick<CollectionDef, 'fields'>): boolean {
  const data = { ...doc.data, ...(doc.id ? { id: doc.id } : {}), ownerId: doc.ownerId };
  return ruleAllows(caller, rule, doc, def, { method: 'POST', data });
}

/**
 * The read check as a SQL predicate over the table alias `d`, or `false` when the rule lets
 * the caller see nothing (the query need not run). Values are bound through `params`.
 */
export function readFilterSql(caller: Caller, rule: Rule, params: Params, alias = 'd', def?: Pick<CollectionDef, 'fields'>): string | false {
  return filterSql(caller, rule, params, alias, def, READ_CONTEXT, 'read');
}

/**
 * `canWrite` as a SQL predicate over the stored row `alias` (a one-statement update or delete),
 * or `false` when it allows nothing: the rule under `ctx` (without `@data`: an item reading it
 * compiles to "allows nothing", so such a write goes the way that knows the new document) and
 * the acl's write list.
 */
export function writeFilterSql(caller: Caller, rule: Rule, params: Params, alias: string, def: Pick<CollectionDef, 'fields'>, ctx: RuleContext): string | false {
  return filterSql(caller, rule, params, alias, def, { method: ctx.method }, 'write');
}

/** The rule under `ctx` AND the acl's `mode` list, as SQL over `alias`; `false` when the rule allows nothing. */
function filterSql(caller: Caller, rule: Rule, params: Params, alias: string, def: Pick<CollectionDef, 'fields'> | undefined, ctx: RuleContext, mode: AclMode): string | false {
  if (isAdmin(caller)) return 'TRUE';
  const allowed = ruleSql(caller, rule, params, alias, def, ctx);
  if (allowed === false) return false;
  const acl = aclSql(caller, mode, params, alias);
  return allowed === 'TRUE' ? acl : `${allowed} AND ${acl}`;
}

/** `aclAllows` (not counting admins) as a SQL predicate over the row `alias`. */
function aclSql(caller: Caller, mode: AclMode, params: Params, alias: string): string {
  const aclOr = [`${alias}.acl IS NULL`, `NOT (${alias}.acl ? '${mode}')`];
  if (caller.kind === 'user') aclOr.push(`${alias}.owner_id = ${params.add(caller.userId, 'uuid')}`);
  aclOr.push(`(${alias}.acl->'${mode}') ?| ${params.add(principalsOf(caller), 'text[]')}`);
  return `(${aclOr.join(' OR ')})`;
}
