import { type Caller, hasRole, isAdmin } from '../auth/caller.js';
import type { Rule } from './definition.js';
import type { Params } from './sql.js';
import type { Acl } from './values.js';

/**
 * The permission model (DESIGN.md, docs/data.md): a collection rule decides who may do an
 * operation at all, and a document's `acl` (when it has one) narrows who may read or write
 * that document. The owner of a document always passes its acl; admins and the service role
 * pass everything. Two forms of the same check: `ruleAllows`/`aclAllows` in code (writes,
 * change events) and `readFilterSql` in SQL (get, list, count, expand, batch reads).
 */

export type AclMode = 'read' | 'write';

/** What the rule says for this caller and a document owned by `ownerId` (undefined: whoever owns it). */
export function ruleAllows(caller: Caller, rule: Rule, ownerId: string | null | undefined): boolean {
  if (isAdmin(caller)) return true;
  switch (rule) {
    case 'public':
      return true;
    case 'authenticated':
      return caller.kind === 'user';
    case 'owner':
      return caller.kind === 'user' && (ownerId === undefined || ownerId === caller.userId);
    case 'admin':
      return false;
    default:
      return hasRole(caller, rule.slice('role:'.length));
  }
}

/** The acl entries that match the caller: `*`, `user:<id>`, `role:<name>` for each role. */
export function principalsOf(caller: Caller): string[] {
  if (caller.kind !== 'user') return ['*'];
  return ['*', `user:${caller.userId}`, ...caller.roles.map((r) => `role:${r}`)];
}

export function aclAllows(caller: Caller, acl: Acl | null, ownerId: string | null, mode: AclMode): boolean {
  if (isAdmin(caller)) return true;
  const list = acl?.[mode];
  if (!list) return true;
  if (caller.kind === 'user' && ownerId !== null && ownerId === caller.userId) return true;
  const mine = new Set(principalsOf(caller));
  return list.some((entry) => mine.has(entry));
}

export interface DocAccess {
  ownerId: string | null;
  acl: Acl | null;
}

/** May the caller read this document under this rule (`read` for get/expand, `list` for list/count)? */
export function canRead(caller: Caller, rule: Rule, doc: DocAccess): boolean {
  return ruleAllows(caller, rule, doc.ownerId) && aclAllows(caller, doc.acl, doc.ownerId, 'read');
}

/** May the caller update or delete this document under this rule? */
export function canWrite(caller: Caller, rule: Rule, doc: DocAccess): boolean {
  return ruleAllows(caller, rule, doc.ownerId) && aclAllows(caller, doc.acl, doc.ownerId, 'write');
}

/**
 * The read check as a SQL predicate over the table alias `d`, or `false` when the rule lets
 * the caller see nothing (the query need not run). Values are bound through `params`.
 */
export function readFilterSql(caller: Caller, rule: Rule, params: Params, alias = 'd'): string | false {
  if (isAdmin(caller)) return 'TRUE';
  if (!ruleAllows(caller, rule, undefined)) return false;
  const parts: string[] = [];
  if (rule === 'owner' && caller.kind === 'user') parts.push(`${alias}.owner_id = ${params.add(caller.userId, 'uuid')}`);
  const aclOr = [`${alias}.acl IS NULL`, `NOT (${alias}.acl ? 'read')`];
  if (caller.kind === 'user') aclOr.push(`${alias}.owner_id = ${params.add(caller.userId, 'uuid')}`);
  aclOr.push(`(${alias}.acl->'read') ?| ${params.add(principalsOf(caller), 'text[]')}`);
  parts.push(`(${aclOr.join(' OR ')})`);
  return parts.join(' AND ');
}
