import { type Caller, hasRole } from '../auth/caller.js';
import { findUnsafeJson } from '../common/safe-json.js';
import type { CollectionDef, FieldDef, RelatedDefs, Rule, RuleExpression, RuleItem, RuleName, Rules } from './definition.js';
import { type EvalDoc, evaluateFilter } from './documents/filter-eval.js';
import { compileFilter, FILTER_LIMITS, FilterError, type RuleVarValues, type VarScope } from './documents/filter.js';
import { Params } from './sql.js';

/**
 * Collection rules (docs/data.md): a one-word shorthand, a filter-language expression with
 * variables, or a list of them (any one allows). One definition, two evaluations: `ruleSql`
 * writes the WHERE clause of lists, counts, gets and expansions; `ruleEval` answers for one
 * document in code (writes, change events) with the same result.
 */

export type RuleMethod = RuleVarValues['request']['method'];

/** What a rule is evaluated for: the request's method and, for create and update, the document as the write leaves it. */
export interface RuleContext {
  method: RuleMethod;
  /** Fields of the document after the write, with `id` and `ownerId` (`@data.*`). */
  data?: Record<string, unknown>;
}

export const READ_CONTEXT: RuleContext = { method: 'GET' };

export function ruleItems(rule: Rule): RuleItem[] {
  return Array.isArray(rule) ? rule : [rule];
}

/** The variables a rule reads for this caller and request. */
export function ruleVars(caller: Caller, ctx: RuleContext): RuleVarValues {
  const user = caller.kind === 'user' ? caller : undefined;
  return {
    auth: {
      id: user?.userId ?? null,
      email: user?.email ?? null,
      roles: user?.roles ?? [],
      emailVerified: user?.emailVerified ?? false,
      kind: caller.kind,
    },
    request: { method: ctx.method },
    ...(ctx.data ? { data: ctx.data } : {}),
  };
}

function scopeOf(caller: Caller, ctx: RuleContext): VarScope {
  return { values: ruleVars(caller, ctx), data: ctx.data !== undefined };
}

/**
 * Expression items need the collection definition; a caller that passes none (code written for
 * one-word rules) gets "allows nothing" for them: fail closed, never a crash.
 */
function withDef<T>(def: Pick<CollectionDef, 'fields'> | undefined, use: (def: Pick<CollectionDef, 'fields'>) => T, otherwise: T): T {
  return def ? use(def) : otherwise;
}

/**
 * The rule as a SQL predicate over the table alias (not counting admins, who pass every rule
 * before this is asked), or `false` when it lets this caller see nothing (the query need not run).
 */
export function ruleSql(caller: Caller, rule: Rule, params: Params, alias: string, def: Pick<CollectionDef, 'fields'> | undefined, ctx: RuleContext): string | false {
  const items = ruleItems(rule);
  // Shorthands first: one that allows everything makes the rest moot. Whatever the items
  // before it bound (`owner` binds the caller's id) is dropped then: a statement must not
  // carry parameters it never uses (Postgres cannot type them).
  const ordered = [...items.filter((i) => typeof i === 'string'), ...items.filter((i) => typeof i !== 'string')];
  const mark = params.values.length;
  const parts: string[] = [];
  for (const item of ordered) {
    let part: string | false;
    if (typeof item !== 'string') part = withDef(def, (d) => compileItem(d, item, params, alias, scopeOf(caller, ctx)), false);
    else if (item === 'public') part = 'TRUE';
    else if (item === 'authenticated') part = caller.kind === 'user' ? 'TRUE' : false;
    else if (item === 'owner') part = caller.kind === 'user' ? `${alias}.owner_id = ${params.add(caller.userId, 'uuid')}` : false;
    else if (item === 'admin') part = false;
    else part = hasRole(caller, item.slice('role:'.length)) ? 'TRUE' : false;
    if (part === 'TRUE') {
      params.values.length = mark;
      return 'TRUE';
    }
    if (part !== false) parts.push(part);
  }
  if (parts.length === 0) return false;
  return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
}

/**
 * One expression item as SQL, or `false` (allows nothing) when it no longer compiles: rules are
 * validated when saved, but a referenced collection may change its fields later. Fails closed.
 */
function compileItem(def: Pick<CollectionDef, 'fields'>, item: RuleExpression, params: Params, alias: string, scope: VarScope): string | false {
  const mark = params.values.length;
  try {
    return `(${compileFilter(def, item, params, alias, scope)})`;
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    params.values.length = mark; // nothing it bound may stay unused in the statement
    return false;
  }
}

/** Whether a filter reads a field of a referenced document (`team.members`): only SQL can answer it. */
function hasHop(fields: FieldDef[], node: unknown): boolean {
  if (Array.isArray(node)) return node.some((n) => hasHop(fields, n));
  if (typeof node !== 'object' || node === null) return false;
  return Object.entries(node).some(([key, value]) => {
    if (key === '$and' || key === '$or' || key === '$not') return hasHop(fields, value);
    const [head, ...rest] = key.split('.');
    return rest.length > 0 && fields.some((f) => f.name === head && f.type === 'reference');
  });
}

/** Whether the rule has an expression that reads referenced documents (its checks must run in SQL: ruleSql). */
export function ruleNeedsSql(rule: Rule, def: Pick<CollectionDef, 'fields'>): boolean {
  return ruleItems(rule).some((item) => typeof item !== 'string' && hasHop(def.fields, item));
}

/**
 * The rule's answer for one document (not counting admins). An expression that reads
 * referenced documents cannot be answered in code: such an item allows nothing here (writes
 * check those rules in SQL instead, and so do realtime events: DocumentsRepository.ruleHolds).
 */
export function ruleEval(caller: Caller, rule: Rule, doc: EvalDoc, def: Pick<CollectionDef, 'fields'> | undefined, ctx: RuleContext): boolean {
  return ruleItems(rule).some((item) => {
    if (typeof item !== 'string') {
      return withDef(
        def,
        (fields) => {
          if (hasHop(fields.fields, item)) return false;
          try {
            return evaluateFilter(fields, item, doc, scopeOf(caller, ctx)) === true;
          } catch {
            return false; // fails closed, as compileItem
          }
        },
        false,
      );
    }
    switch (item) {
      case 'public':
        return true;
      case 'authenticated':
        return caller.kind === 'user';
      case 'owner':
        return caller.kind === 'user' && doc.ownerId === caller.userId;
      case 'admin':
        return false;
      default:
        return hasRole(caller, item.slice('role:'.length));
    }
  });
}

const SAMPLE_UUID = '00000000-0000-4000-8000-000000000000';

/** A value of the field's type, standing in for `@data.<field>` while a rule is validated. */
function sampleOf(field: FieldDef): unknown {
  switch (field.type) {
    case 'string':
      return 'sample';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return true;
    case 'date':
      return '2026-01-01T00:00:00.000Z';
    case 'reference':
      return SAMPLE_UUID;
    case 'json':
      return {};
    case 'array':
      return [];
  }
}

/**
 * Problems of the rules against these fields (unknown fields and variables, operators, value
 * types), each with its path (`rules.read.0.status.$eq`). A rule is compiled once with sample
 * variables of the right types, so a type error shows now and not at request time.
 */
export function ruleIssues(fields: FieldDef[], rules: Partial<Rules>, related: RelatedDefs = {}): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const data = Object.fromEntries([...fields.map((f) => [f.name, sampleOf(f)] as const), ['id', SAMPLE_UUID], ['ownerId', SAMPLE_UUID]]);
  for (const [name, rule] of Object.entries(rules) as [RuleName, Rule | undefined][]) {
    if (rule === undefined) continue;
    const writes = name === 'create' || name === 'update';
    const scope: VarScope = {
      values: {
        auth: { id: SAMPLE_UUID, email: 'user@example.com', roles: ['role'], emailVerified: true, kind: 'user' },
        request: { method: 'GET' },
        ...(writes ? { data } : {}),
      },
      data: writes,
    };
    ruleItems(rule).forEach((item, i) => {
      if (typeof item === 'string') return;
      const base: (string | number)[] = Array.isArray(rule) ? ['rules', name, i] : ['rules', name];
      const unsafe = findUnsafeJson(item, FILTER_LIMITS.depth * 3 + 4);
      if (unsafe) {
        issues.push({ path: [...base, ...unsafe.path], message: unsafe.message });
        return;
      }
      try {
        compileFilter({ fields, related }, item, new Params(), 'd', scope);
      } catch (err) {
        if (!(err instanceof FilterError)) throw err;
        issues.push({ path: [...base, ...(err.path ? err.path.split('.') : [])], message: err.message });
      }
    });
  }
  return issues;
}
