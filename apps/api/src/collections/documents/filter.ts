import { type CollectionDef, FIELD_NAME, type FieldDef, type IndexEntry, type RelatedDefs, SCALAR_TYPES, USERS_TARGET } from '../definition.js';
import { findUnsafeJson, FORBIDDEN_KEYS, isPlainObject } from '../../common/safe-json.js';
import { type Expr, fieldExpr, fieldExprOn, fieldLiteral, type Params, searchSql, SYSTEM_COLUMNS, type SqlType, tableOf } from '../sql.js';
import { normaliseDate, UUID } from '../values.js';

/**
 * The JSON filter language (docs/data.md, "Lists and queries"): `{"age":{"$gte":18},"$or":[...]}` with $eq $ne $gt
 * $gte $lt $lte $in $nin $exists $contains $startsWith, the case-insensitive $ieq $icontains
 * $istartsWith, $search (full text), $and $or $not and dot paths into json
 * fields. Compiled to a SQL predicate: field names are checked against the collection's
 * declared fields before they are written into SQL; every value is a bound parameter.
 */

export const FILTER_LIMITS = {
  /** Characters of the `filter` query parameter. */
  chars: 8192,
  /** Nesting of $and/$or/$not. */
  depth: 6,
  /** Field conditions in one filter. */
  conditions: 64,
  /** Items of one $and/$or. */
  branches: 32,
  /** Values of one $in/$nin. */
  inValues: 100,
  /** Characters of one string value. */
  stringLength: 1024,
  /** Segments of a dot path. */
  pathSegments: 8,
} as const;

export class FilterError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Rule variables (docs/data.md): in a collection rule, a string value starting with `@` names a
 * variable (`"ownerId": "@auth.id"`), and a key starting with `@` is a condition on one
 * (`"@auth.emailVerified": true`). `@@` at the start of a value stands for a literal `@`.
 * Client filters have no variables: there every string is a literal.
 */
export interface RuleVarValues {
  auth: { id: string | null; email: string | null; roles: string[]; emailVerified: boolean; kind: 'anonymous' | 'user' | 'service' };
  request: { method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' };
  /** The document as the write leaves it (create and update rules only): its fields, `id` and `ownerId`. */
  data?: Record<string, unknown>;
}

export interface VarScope {
  values: RuleVarValues;
  /** Whether `@data` may be used (create and update rules). */
  data: boolean;
}

/** What a variable name reads. */
export type VarSpec =
  | { kind: 'auth'; key: keyof RuleVarValues['auth'] }
  | { kind: 'request'; key: 'method' }
  | { kind: 'data'; segments: [string, ...string[]] };

const AUTH_KEYS: ReadonlySet<string> = new Set(['id', 'email', 'roles', 'emailVerified', 'kind']);
/** `@data` may name these system fields besides the declared ones. */
export const DATA_SYSTEM_FIELDS: ReadonlySet<string> = new Set(['id', 'ownerId']);

/** Whether a filter value is a variable reference (only where a scope is given). */
export function isVarRef(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('@') && !value.startsWith('@@');
}

/** A literal string of a rule: `@@x` stands for `@x`. */
export function literalOf(value: unknown): unknown {
  return typeof value === 'string' && value.startsWith('@@') ? value.slice(1) : value;
}

/** Parses `@auth.id`, `@request.method`, `@data.<field>[.<path>]`; FilterError for anything else. */
export function parseVar(name: string, at: string, fields: Map<string, FieldDef>, dataAllowed: boolean): VarSpec {
  const [root, ...rest] = name.slice(1).split('.');
  if (root === 'auth' && rest.length === 1 && AUTH_KEYS.has(rest[0]!)) return { kind: 'auth', key: rest[0] as keyof RuleVarValues['auth'] };
  if (root === 'request' && rest.length === 1 && rest[0] === 'method') return { kind: 'request', key: 'method' };
  if (root === 'data' && rest.length > 0) {
    if (!dataAllowed) throw new FilterError(at, '@data is only available in create and update rules');
    if (rest.length > FILTER_LIMITS.pathSegments) throw new FilterError(at, `has more than ${FILTER_LIMITS.pathSegments} segments`);
    for (const seg of rest) if (!FIELD_NAME.test(seg) || FORBIDDEN_KEYS.has(seg)) throw new FilterError(at, 'is not a valid field name');
    const [head, ...path] = rest as [string, ...string[]];
    const field = fields.get(head);
    if (!field && !DATA_SYSTEM_FIELDS.has(head)) throw new FilterError(at, `"${head}" is not a field of this collection`);
    if (path.length > 0 && field?.type !== 'json') throw new FilterError(at, 'dot paths are allowed only into json fields');
    return { kind: 'data', segments: [head, ...path] };
  }
  throw new FilterError(at, `"${name.slice(0, 64)}" is not a known variable (@auth.id, @auth.email, @auth.roles, @auth.emailVerified, @auth.kind, @request.method, @data.<field>)`);
}

/** The value a variable holds (undefined when absent). */
export function varValue(values: RuleVarValues, spec: VarSpec): unknown {
  if (spec.kind === 'auth') return values.auth[spec.key];
  if (spec.kind === 'request') return values.request.method;
  let v: unknown = values.data;
  for (const seg of spec.segments) v = isPlainObject(v) && Object.hasOwn(v, seg) ? v[seg] : undefined;
  return v;
}

const COMPARISON = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;
const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$contains', '$startsWith', '$ieq', '$icontains', '$istartsWith']);
/** Case- (and, with unaccent, accent-) insensitive operators: both sides folded by baas_fold() (migration 20261129160000). */
export const FOLDING_OPERATORS: ReadonlySet<string> = new Set(['$ieq', '$icontains', '$istartsWith']);

/** The SQL of a folding operator over a text expression and a bound text parameter. */
function foldedSql(op: string, text: string, p: string): string {
  const x = `baas_fold(${text})`;
  const y = `baas_fold(${p})`;
  if (op === '$ieq') return `${x} = ${y}`;
  return op === '$icontains' ? `strpos(${x}, ${y}) > 0` : `starts_with(${x}, ${y})`;
}

/** Parses the `filter` query parameter; malformed JSON and anything over the limits is a FilterError. */
export function parseFilter(text: string): Record<string, unknown> {
  if (text.length > FILTER_LIMITS.chars) throw new FilterError('filter', `must be at most ${FILTER_LIMITS.chars} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FilterError('filter', 'is not valid JSON');
  }
  if (!isPlainObject(value)) throw new FilterError('filter', 'must be a JSON object');
  const unsafe = findUnsafeJson(value, FILTER_LIMITS.depth * 3 + 4);
  if (unsafe) throw new FilterError(unsafe.path.join('.'), unsafe.message);
  return value;
}

/** What a filter path reads: a typed field, a system column, a whole array/json field, or a path inside a json field. */
type Target =
  | { kind: 'typed'; expr: Expr; valueType: 'string' | 'number' | 'integer' | 'boolean' | 'date' | 'uuid'; exists: () => string; label: string }
  | { kind: 'jsonb'; expr: Expr; field: FieldDef; exists: () => string }
  | { kind: 'path'; sql: string; exists: () => string };

class Compiler {
  private conditions = 0;

  /** The placeholder of the bound variables object, bound on first use. */
  private varsParam?: string;

  constructor(
    private readonly fields: Map<string, FieldDef>,
    private readonly params: Params,
    private readonly alias: string,
    private readonly scope?: VarScope,
    private readonly indexes?: IndexEntry[],
    private readonly related?: RelatedDefs,
  ) {}

  /**
   * A rule condition on a field of the referenced document (`"team.members": {...}`, one hop,
   * rules only): EXISTS over the referenced collection's row, compiled with its fields.
   */
  private hop(fieldPath: string, value: unknown, at: string): string | undefined {
    if (!this.scope || !fieldPath.includes('.') || fieldPath.startsWith('@')) return undefined;
    const [head, ...rest] = fieldPath.split('.') as [string, ...string[]];
    const field = this.fields.get(head);
    if (field?.type !== 'reference') return undefined;
    const target = field.collection && field.collection !== USERS_TARGET ? this.related?.[field.collection] : undefined;
    if (!target) throw new FilterError(at, `"${head}" references ${field.collection === USERS_TARGET ? 'users, whose fields rules cannot read' : 'a collection that does not exist'}`);
    const alias = `${this.alias || 'd'}_${head}`;
    const inner = new Compiler(new Map(target.fields.map((f) => [f.name, f])), this.params, alias, this.scope);
    const condition = inner.field(rest.join('.'), value, at);
    const ref = fieldExpr(field, this.alias).sql;
    return `EXISTS (SELECT 1 FROM ${tableOf(field.collection!)} ${alias} WHERE ${alias}.id = (CASE WHEN ${ref} ~ '^[0-9a-fA-F-]{36}$' THEN ${ref}::uuid END) AND (${condition}))`;
  }

  private vars(): string {
    this.varsParam ??= this.params.add(JSON.stringify(this.scope!.values), 'jsonb');
    return this.varsParam;
  }

  /** A variable as a filter target (a key starting with @): its value is read from the bound variables object. */
  private varTarget(name: string, at: string): Target {
    const spec = parseVar(name, at, this.fields, this.scope!.data);
    const v = this.vars();
    const label = name;
    if (spec.kind === 'auth' || spec.kind === 'request') {
      const key = spec.key;
      const text = `(${v}->${fieldLiteral(spec.kind)}->>${fieldLiteral(key)})`;
      const exists = () => `${text} IS NOT NULL`;
      switch (key) {
        case 'id':
          return { kind: 'typed', expr: { sql: `(${text}::uuid)`, type: 'uuid', nullable: true }, valueType: 'uuid', exists, label };
        case 'emailVerified':
          return { kind: 'typed', expr: { sql: text, type: 'text', nullable: true }, valueType: 'boolean', exists, label };
        case 'roles':
          return { kind: 'jsonb', expr: { sql: `(${v}->'auth'->'roles')`, type: 'jsonb', nullable: true }, field: { name: 'roles', type: 'array', items: 'string' }, exists };
        default:
          return { kind: 'typed', expr: { sql: text, type: 'text', nullable: true }, valueType: 'string', exists, label };
      }
    }
    const [head, ...rest] = spec.segments;
    const data = `(${v}->'data')`;
    const exists = () => `${data} ? ${this.params.add(head, 'text')}`;
    if (DATA_SYSTEM_FIELDS.has(head) && !this.fields.has(head)) {
      return { kind: 'typed', expr: { sql: `((${data}->>${fieldLiteral(head)})::uuid)`, type: 'uuid', nullable: true }, valueType: 'uuid', exists, label };
    }
    const field = this.fields.get(head)!;
    if (rest.length > 0) {
      const sql = `(${data} #> ${this.params.add([head, ...rest], 'text[]')})`;
      return { kind: 'path', sql, exists: () => `${sql} IS NOT NULL` };
    }
    const expr = fieldExprOn(field, data);
    if (!SCALAR_TYPES.has(field.type)) return { kind: 'jsonb', expr, field, exists };
    const valueType = field.type === 'reference' ? 'uuid' : (field.type as 'string' | 'number' | 'integer' | 'boolean' | 'date');
    return { kind: 'typed', expr, valueType, exists, label };
  }

  /**
   * A rule's operand with its variables replaced by their values (items of $in/$nin too; items
   * whose variable is empty are left out). `null` means the variable is empty: the condition is unknown.
   */
  private resolve(op: string, operand: unknown, at: string): { value: unknown } | null {
    if (!this.scope) return { value: operand };
    const one = (v: unknown, where: string): unknown => (isVarRef(v) ? varValue(this.scope!.values, parseVar(v, where, this.fields, this.scope!.data)) : literalOf(v));
    if ((op === '$in' || op === '$nin') && Array.isArray(operand)) {
      return { value: operand.map((v, i) => one(v, `${at}.${i}`)).filter((v) => v !== undefined && v !== null) };
    }
    const value = one(operand, at);
    if (isVarRef(operand) && (value === undefined || value === null)) return null;
    return { value };
  }

  node(node: unknown, path: string, depth: number): string {
    if (!isPlainObject(node)) throw new FilterError(path, 'must be an object');
    if (depth > FILTER_LIMITS.depth) throw new FilterError(path, `nests deeper than ${FILTER_LIMITS.depth} levels`);
    const parts: string[] = [];
    for (const key of Object.keys(node)) {
      const value = node[key];
      const at = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) throw new FilterError(at, `the key "${key}" is not allowed`);
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(value) || value.length === 0 || value.length > FILTER_LIMITS.branches) {
          throw new FilterError(at, `must be an array of 1 to ${FILTER_LIMITS.branches} filters`);
        }
        const items = value.map((item, i) => `(${this.node(item, `${at}.${i}`, depth + 1)})`);
        parts.push(`(${items.join(key === '$and' ? ' AND ' : ' OR ')})`);
      } else if (key === '$search') {
        if (typeof value !== 'string' || value.trim() === '' || value.length > FILTER_LIMITS.stringLength) {
          throw new FilterError(at, `must be a non-empty string of at most ${FILTER_LIMITS.stringLength} characters`);
        }
        if (++this.conditions > FILTER_LIMITS.conditions) throw new FilterError(at, `the filter has more than ${FILTER_LIMITS.conditions} conditions`);
        if (this.scope) throw new FilterError(at, 'is not available in rules');
        const search = this.indexes ? searchSql({ indexes: this.indexes }, value, this.params, this.alias) : undefined;
        if (!search) throw new FilterError(at, 'needs a search index on the collection (indexes: [{ "fields": [...], "search": true }])');
        parts.push(search.match);
      } else if (key === '$not') {
        // A condition on a missing value is NULL; $not of it is true, as in MongoDB.
        parts.push(`NOT COALESCE((${this.node(value, at, depth + 1)}), FALSE)`);
      } else if (key.startsWith('$')) {
        throw new FilterError(at, `is not a known operator`);
      } else {
        parts.push(this.field(key, value, at));
      }
    }
    return parts.length ? parts.join(' AND ') : 'TRUE';
  }

  private target(fieldPath: string, at: string): Target {
    if (this.scope && fieldPath.startsWith('@')) return this.varTarget(fieldPath, at);
    const segments = fieldPath.split('.');
    if (segments.length > FILTER_LIMITS.pathSegments) throw new FilterError(at, `has more than ${FILTER_LIMITS.pathSegments} segments`);
    for (const s of segments) {
      if (!FIELD_NAME.test(s) || FORBIDDEN_KEYS.has(s)) throw new FilterError(at, 'is not a valid field name');
    }
    const [head, ...rest] = segments as [string, ...string[]];
    const a = this.alias ? `${this.alias}.` : '';
    const column = SYSTEM_COLUMNS[head];
    if (column && rest.length === 0) {
      const expr = { ...column, sql: a + column.sql };
      const valueType = column.type === 'uuid' ? 'uuid' : 'date';
      return { kind: 'typed', expr, valueType, exists: () => (column.nullable ? `${expr.sql} IS NOT NULL` : 'TRUE'), label: head };
    }
    const field = this.fields.get(head);
    if (!field) throw new FilterError(at, `"${head}" is not a field of this collection`);
    // Bound only when used: Postgres rejects a parameter the statement never mentions.
    const exists = () => `${a}data ? ${this.params.add(head, 'text')}`;
    if (rest.length > 0) {
      if (field.type !== 'json') throw new FilterError(at, 'dot paths are allowed only into json fields');
      const sql = `(${a}data #> ${this.params.add(segments, 'text[]')})`;
      return { kind: 'path', sql, exists: () => `${sql} IS NOT NULL` };
    }
    const expr = fieldExpr(field, this.alias);
    if (!SCALAR_TYPES.has(field.type)) return { kind: 'jsonb', expr, field, exists };
    const valueType = field.type === 'reference' ? 'uuid' : (field.type as 'string' | 'number' | 'integer' | 'boolean' | 'date');
    return { kind: 'typed', expr, valueType, exists, label: head };
  }

  private field(fieldPath: string, value: unknown, at: string): string {
    const hop = this.hop(fieldPath, value, at);
    if (hop !== undefined) return hop;
    const target = this.target(fieldPath, at);
    let ops: [string, unknown][];
    if (isPlainObject(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => k.startsWith('$'))) {
      ops = Object.entries(value);
    } else if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
      throw new FilterError(at, 'mixes operators and plain keys');
    } else {
      ops = [['$eq', value]];
    }
    const parts = ops.map(([op, operand]) => {
      if (!OPERATORS.has(op)) throw new FilterError(`${at}.${op}`, 'is not a known operator');
      if (++this.conditions > FILTER_LIMITS.conditions) throw new FilterError(at, `the filter has more than ${FILTER_LIMITS.conditions} conditions`);
      const where = op === '$eq' && ops.length === 1 && !isPlainObject(value) ? at : `${at}.${op}`;
      const resolved = this.resolve(op, operand, where);
      return resolved ? this.condition(target, op, resolved.value, where) : 'NULL';
    });
    return parts.join(' AND ');
  }

  private condition(target: Target, op: string, operand: unknown, at: string): string {
    if (op === '$exists') {
      if (typeof operand !== 'boolean') throw new FilterError(at, 'must be true or false');
      return operand ? target.exists() : `NOT (${target.exists()})`;
    }
    switch (target.kind) {
      case 'typed':
        return this.typed(target, op, operand, at);
      case 'jsonb':
        return this.jsonb(target, op, operand, at);
      case 'path':
        return this.path(target, op, operand, at);
    }
  }

  /** A value of the target's type, as the text bound for it; FilterError otherwise. */
  private scalar(target: Extract<Target, { kind: 'typed' }>, value: unknown, at: string): string {
    switch (target.valueType) {
      case 'string':
        if (typeof value !== 'string') throw new FilterError(at, 'must be a string');
        if (value.length > FILTER_LIMITS.stringLength) throw new FilterError(at, `must be at most ${FILTER_LIMITS.stringLength} characters`);
        return value;
      case 'number':
      case 'integer':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw new FilterError(at, 'must be a number');
        return String(value);
      case 'boolean':
        if (typeof value !== 'boolean') throw new FilterError(at, 'must be true or false');
        return String(value);
      case 'date': {
        const date = normaliseDate(value);
        if (!date) throw new FilterError(at, 'must be an ISO-8601 date or date-time with a time zone');
        return date;
      }
      case 'uuid':
        if (typeof value !== 'string' || !UUID.test(value)) throw new FilterError(at, 'must be a UUID');
        return value.toLowerCase();
    }
  }

  private typed(target: Extract<Target, { kind: 'typed' }>, op: string, operand: unknown, at: string): string {
    const { expr } = target;
    const cast: SqlType = expr.type;
    switch (op) {
      case '$eq':
      case '$ne': {
        if (operand === null) return `${expr.sql} IS ${op === '$eq' ? '' : 'NOT '}NULL`;
        const p = this.params.add(this.scalar(target, operand, at), cast);
        return op === '$eq' ? `${expr.sql} = ${p}` : `${expr.sql} IS DISTINCT FROM ${p}`;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (target.valueType === 'boolean' || target.valueType === 'uuid') throw new FilterError(at, `cannot compare ${target.label} by order`);
        return `${expr.sql} ${COMPARISON[op]} ${this.params.add(this.scalar(target, operand, at), cast)}`;
      case '$in':
      case '$nin': {
        if (!Array.isArray(operand) || operand.length > FILTER_LIMITS.inValues) {
          throw new FilterError(at, `must be an array of at most ${FILTER_LIMITS.inValues} values`);
        }
        const values = operand.map((v, i) => this.scalar(target, v, `${at}.${i}`));
        if (values.length === 0) return op === '$in' ? 'FALSE' : 'TRUE';
        const p = this.params.add(values, `${cast}[]`);
        return op === '$in' ? `${expr.sql} = ANY(${p})` : `(${expr.sql} IS NULL OR NOT (${expr.sql} = ANY(${p})))`;
      }
      case '$contains':
      case '$startsWith': {
        if (target.valueType !== 'string') throw new FilterError(at, `applies to string fields only`);
        const p = this.params.add(this.scalar(target, operand, at), 'text');
        // strpos searches in linear time whatever the stored string; no LIKE pattern, no escaping.
        return op === '$contains' ? `strpos(${expr.sql}, ${p}) > 0` : `starts_with(${expr.sql}, ${p})`;
      }
      case '$ieq':
      case '$icontains':
      case '$istartsWith': {
        if (target.valueType !== 'string') throw new FilterError(at, `applies to string fields only`);
        return foldedSql(op, expr.sql, this.params.add(this.scalar(target, operand, at), 'text'));
      }
      default:
        throw new FilterError(at, 'is not a known operator');
    }
  }

  private jsonValue(value: unknown, at: string): string {
    const text = JSON.stringify(value);
    if (text.length > FILTER_LIMITS.stringLength * 4) throw new FilterError(at, 'is too large');
    return text;
  }

  private jsonb(target: Extract<Target, { kind: 'jsonb' }>, op: string, operand: unknown, at: string): string {
    const { expr, field } = target;
    switch (op) {
      case '$eq':
      case '$ne': {
        if (operand === null) return `${expr.sql} IS ${op === '$eq' ? '' : 'NOT '}NULL`;
        const p = this.params.add(this.jsonValue(operand, at), 'jsonb');
        return op === '$eq' ? `${expr.sql} = ${p}` : `${expr.sql} IS DISTINCT FROM ${p}`;
      }
      case '$contains': {
        if (field.type === 'array') {
          if (operand === null || typeof operand === 'object') throw new FilterError(at, 'must be a single value (an item of the array)');
          return `${expr.sql} @> ${this.params.add(this.jsonValue([operand], at), 'jsonb')}`;
        }
        if (!isPlainObject(operand)) throw new FilterError(at, 'must be an object (the pairs the json value contains)');
        return `${expr.sql} @> ${this.params.add(this.jsonValue(operand, at), 'jsonb')}`;
      }
      default:
        throw new FilterError(at, `is not supported for ${field.type} fields`);
    }
  }

  /** Conditions inside a json field: compared by the type of the filter value. */
  private path(target: Extract<Target, { kind: 'path' }>, op: string, operand: unknown, at: string): string {
    const x = target.sql;
    const asText = `(CASE WHEN jsonb_typeof(${x}) = 'string' THEN ${x}#>>'{}' END)`;
    const asNumber = `(CASE WHEN jsonb_typeof(${x}) = 'number' THEN (${x}#>>'{}')::numeric END)`;
    const scalar = (v: unknown, where: string): unknown => {
      if (typeof v === 'string' && v.length > FILTER_LIMITS.stringLength) throw new FilterError(where, 'is too long');
      if (v !== null && typeof v === 'object') throw new FilterError(where, 'must be a string, number, boolean or null');
      if (typeof v === 'number' && !Number.isFinite(v)) throw new FilterError(where, 'must be a finite number');
      return v;
    };
    switch (op) {
      case '$eq':
      case '$ne': {
        if (operand === null) return op === '$eq' ? `(${x} IS NULL OR ${x} = 'null'::jsonb)` : `(${x} IS NOT NULL AND ${x} <> 'null'::jsonb)`;
        const p = this.params.add(this.jsonValue(scalar(operand, at), at), 'jsonb');
        return op === '$eq' ? `${x} = ${p}` : `${x} IS DISTINCT FROM ${p}`;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (typeof operand === 'number' && Number.isFinite(operand)) return `${asNumber} ${COMPARISON[op]} ${this.params.add(String(operand), 'numeric')}`;
        if (typeof operand === 'string') return `${asText} ${COMPARISON[op]} ${this.params.add(scalar(operand, at), 'text')}`;
        throw new FilterError(at, 'must be a number or a string');
      case '$in':
      case '$nin': {
        if (!Array.isArray(operand) || operand.length > FILTER_LIMITS.inValues) {
          throw new FilterError(at, `must be an array of at most ${FILTER_LIMITS.inValues} values`);
        }
        const values = operand.map((v, i) => this.jsonValue(scalar(v, `${at}.${i}`), `${at}.${i}`));
        if (values.length === 0) return op === '$in' ? 'FALSE' : 'TRUE';
        const p = this.params.add(values, 'jsonb[]');
        return op === '$in' ? `${x} = ANY(${p})` : `(${x} IS NULL OR NOT (${x} = ANY(${p})))`;
      }
      case '$contains':
      case '$startsWith':
      case '$ieq':
      case '$icontains':
      case '$istartsWith': {
        if (typeof operand !== 'string') throw new FilterError(at, 'must be a string');
        const p = this.params.add(scalar(operand, at), 'text');
        if (FOLDING_OPERATORS.has(op)) return foldedSql(op, asText, p);
        return op === '$contains' ? `strpos(${asText}, ${p}) > 0` : `starts_with(${asText}, ${p})`;
      }
      default:
        throw new FilterError(at, 'is not a known operator');
    }
  }
}

/** Compiles a parsed filter into a SQL predicate over the table alias, binding values through `params`. */
export function compileFilter(
  def: Pick<CollectionDef, 'fields'> & { indexes?: IndexEntry[]; related?: RelatedDefs },
  filter: Record<string, unknown>,
  params: Params,
  alias = 'd',
  scope?: VarScope,
): string {
  // Rules (with a scope) never search: their in-code evaluation could not answer the same.
  const compiler = new Compiler(new Map(def.fields.map((f) => [f.name, f])), params, alias, scope, scope ? undefined : def.indexes, scope ? def.related : undefined);
  return compiler.node(filter, '', 0);
}
