import { isPlainObject } from '../../common/safe-json.js';
import { type CollectionDef, type FieldDef, SCALAR_TYPES } from '../definition.js';
import { normaliseDate } from '../values.js';
import type { DocRow } from './documents.repository.js';

/**
 * The filter language evaluated in memory over a stored row, with the semantics of the SQL
 * that `compileFilter` writes for it (three-valued: a condition on a missing value is
 * unknown, `$not` of unknown is true, a row matches when the whole filter is true). Realtime
 * checks every change against a subscription's filter with it, without a database round trip.
 *
 * Call it only with a filter `compileFilter` accepted for the same definition: that is where
 * field names, operators, value types and limits are checked (and where errors come from).
 * filter-match.e2e-spec.ts compares both on the same rows in Postgres.
 */

type Tri = boolean | null;
/** A row's values as the SQL expressions read them. */
type Row = Pick<DocRow, 'id' | 'data' | 'owner_id'> & { created_at: Date | string; updated_at: Date | string };

const and = (a: Tri, b: Tri): Tri => (a === false || b === false ? false : a === null || b === null ? null : true);
const or = (a: Tri, b: Tri): Tri => (a === true || b === true ? true : a === null || b === null ? null : false);

/** jsonb equality: objects by keys whatever their order, numbers by value. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** jsonb `@>`: containment (arrays: every item of `b` is contained in some item of `a`; a scalar array contains its items). */
function jsonContains(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return b.every((item) => a.some((x) => jsonContains(x, item)));
    return !isPlainObject(b) && a.some((x) => jsonEqual(x, b));
  }
  if (isPlainObject(a)) return isPlainObject(b) && Object.keys(b).every((k) => Object.hasOwn(a, k) && jsonContains(a[k], b[k]));
  return !Array.isArray(b) && !isPlainObject(b) && jsonEqual(a, b);
}

/** `data->>key`: the text of a JSON value (NULL for JSON null and missing keys). */
function asText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** Order of texts by code point (Postgres orders by the database collation: docs/realtime.md, "Filters"). */
function cmp(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compare(op: string, a: string | number | null, b: string | number): Tri {
  if (a === null) return null;
  const c = cmp(a, b);
  switch (op) {
    case '$gt':
      return c > 0;
    case '$gte':
      return c >= 0;
    case '$lt':
      return c < 0;
    default:
      return c <= 0;
  }
}

const ORDER_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);

class Matcher {
  constructor(
    private readonly fields: Map<string, FieldDef>,
    private readonly row: Row,
  ) {}

  node(node: Record<string, unknown>): Tri {
    let result: Tri = true;
    for (const [key, value] of Object.entries(node)) {
      let part: Tri;
      if (key === '$and' || key === '$or') {
        const items = (value as Record<string, unknown>[]).map((item) => this.node(item));
        part = items.reduce<Tri>((acc, x) => (key === '$and' ? and(acc, x) : or(acc, x)), key === '$and');
      } else if (key === '$not') {
        part = !(this.node(value as Record<string, unknown>) ?? false);
      } else {
        part = this.field(key, value);
      }
      result = and(result, part);
    }
    return result;
  }

  private field(path: string, value: unknown): Tri {
    const ops: [string, unknown][] =
      isPlainObject(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => k.startsWith('$')) ? Object.entries(value) : [['$eq', value]];
    return ops.reduce<Tri>((acc, [op, operand]) => and(acc, this.condition(path, op, operand)), true);
  }

  private condition(path: string, op: string, operand: unknown): Tri {
    const [head, ...rest] = path.split('.') as [string, ...string[]];
    if (rest.length === 0 && (head === 'id' || head === 'ownerId')) {
      const v = head === 'id' ? this.row.id : this.row.owner_id;
      if (op === '$exists') return operand === (v !== null);
      return this.scalar(op, operand, v, (x) => (typeof x === 'string' ? x.toLowerCase() : null));
    }
    if (rest.length === 0 && (head === 'createdAt' || head === 'updatedAt')) {
      const raw = head === 'createdAt' ? this.row.created_at : this.row.updated_at;
      const ms = new Date(raw).getTime();
      if (op === '$exists') return operand === true;
      return this.scalar(op, operand, ms, (x) => {
        const date = normaliseDate(x);
        return date === undefined || date === null ? null : new Date(date).getTime();
      });
    }
    const field = this.fields.get(head);
    if (!field) return false; // compileFilter refuses unknown fields before this runs
    const data = this.row.data;
    const present = Object.hasOwn(data, head);
    if (rest.length > 0) return this.path(op, operand, jsonPath(data[head], rest));
    if (op === '$exists') return operand === present;
    const stored = present ? data[head] : undefined;
    if (!SCALAR_TYPES.has(field.type)) return this.jsonb(op, operand, stored === undefined ? null : stored);
    switch (field.type) {
      case 'number':
      case 'integer':
        return this.scalar(op, operand, typeof stored === 'number' ? stored : null, (x) => (typeof x === 'number' ? x : null));
      case 'date':
        return this.scalar(op, operand, asText(stored), (x) => normaliseDate(x) ?? null);
      case 'boolean':
        return this.scalar(op, operand, asText(stored), (x) => String(x));
      case 'reference':
        return this.scalar(op, operand, asText(stored), (x) => (typeof x === 'string' ? x.toLowerCase() : null));
      default:
        return this.scalar(op, operand, asText(stored), (x) => (typeof x === 'string' ? x : null));
    }
  }

  /** A typed value (text, number or epoch ms) against the operator; `conv` turns filter values into the same kind. */
  private scalar<T extends string | number>(op: string, operand: unknown, value: T | null, conv: (x: unknown) => T | null): Tri {
    if (op === '$eq' || op === '$ne') {
      if (operand === null) return op === '$eq' ? value === null : value !== null;
      const p = conv(operand);
      if (op === '$ne') return value === null || value !== p;
      return value === null ? null : value === p;
    }
    if (ORDER_OPS.has(op)) {
      const p = conv(operand);
      return p === null ? null : compare(op, value, p);
    }
    if (op === '$in' || op === '$nin') {
      const values = (operand as unknown[]).map(conv);
      if (values.length === 0) return op === '$nin';
      if (value === null) return op === '$in' ? null : true;
      const hit = values.includes(value);
      return op === '$in' ? hit : !hit;
    }
    if (value === null || typeof value !== 'string') return null;
    const p = String(operand);
    return op === '$contains' ? value.includes(p) : value.startsWith(p);
  }

  /** A whole json or array field (`data->key`). */
  private jsonb(op: string, operand: unknown, value: unknown): Tri {
    if (op === '$eq' || op === '$ne') {
      if (operand === null) return op === '$eq' ? value === null : value !== null;
      if (op === '$ne') return value === null || !jsonEqual(value, operand);
      return value === null ? null : jsonEqual(value, operand);
    }
    // $contains: an array field contains an item, a json field contains the given pairs.
    if (value === null) return null;
    return jsonContains(value, Array.isArray(value) && !isPlainObject(operand) ? [operand] : operand);
  }

  /** A path inside a json field (`data #> path`): undefined is SQL NULL, null is JSON null. */
  private path(op: string, operand: unknown, x: unknown): Tri {
    if (op === '$exists') return operand === (x !== undefined);
    const text = typeof x === 'string' ? x : null;
    const num = typeof x === 'number' ? x : null;
    switch (op) {
      case '$eq':
      case '$ne':
        if (operand === null) return op === '$eq' ? x === undefined || x === null : x !== undefined && x !== null;
        if (op === '$ne') return x === undefined || !jsonEqual(x, operand);
        return x === undefined ? null : jsonEqual(x, operand);
      case '$in':
      case '$nin': {
        const values = operand as unknown[];
        if (values.length === 0) return op === '$nin';
        if (x === undefined) return op === '$in' ? null : true;
        const hit = values.some((v) => jsonEqual(x, v));
        return op === '$in' ? hit : !hit;
      }
      case '$contains':
        return text === null ? null : text.includes(String(operand));
      case '$startsWith':
        return text === null ? null : text.startsWith(String(operand));
      default:
        return typeof operand === 'number' ? compare(op, num, operand) : compare(op, text, String(operand));
    }
  }
}

/** `value #> rest`: undefined when a segment is missing (SQL NULL). */
function jsonPath(value: unknown, rest: string[]): unknown {
  let at = value;
  for (const segment of rest) {
    // Segments are field names (never numbers), so arrays have none of them.
    if (isPlainObject(at) && Object.hasOwn(at, segment)) {
      at = at[segment];
    } else {
      return undefined;
    }
  }
  return at;
}

/** Whether a stored row matches a filter (one `compileFilter` accepted for `def`). */
export function matchesFilter(def: Pick<CollectionDef, 'fields'>, filter: Record<string, unknown> | undefined, row: Row): boolean {
  if (!filter) return true;
  return new Matcher(new Map(def.fields.map((f) => [f.name, f])), row).node(filter) === true;
}
