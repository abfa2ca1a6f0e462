import type { CollectionDef, FieldDef } from '../definition.js';
import { isPlainObject } from '../../common/safe-json.js';
import { normaliseDate } from '../values.js';
import { DATA_SYSTEM_FIELDS, isVarRef, literalOf, parseVar, type VarScope, varValue } from './filter.js';

/**
 * The filter language evaluated in code on one document, with the same answers as the SQL that
 * compileFilter() writes (test/collections/rule-expressions.e2e-spec.ts checks them against
 * Postgres): three-valued (`null` = unknown, as SQL NULL), strings ordered by code point (the
 * database's C collation), numbers by value. Used for the single-document checks of rules
 * (writes, change events); expressions were validated by compileFilter() when saved.
 */

/** A document as its row holds it. */
export interface EvalDoc {
  id?: string;
  ownerId: string | null;
  createdAt?: Date | string;
  updatedAt?: Date | string;
  data: Record<string, unknown>;
}

type Tri = boolean | null;

/** How a target reads: a scalar as SQL sees it, a whole jsonb value, or a value inside a json field. */
type Value =
  | { kind: 'text'; v: string | null; valueType: 'string' | 'boolean' | 'date' | 'uuid' }
  | { kind: 'number'; v: number | null }
  | { kind: 'time'; v: number | null }
  | { kind: 'jsonb'; v: unknown; field: Pick<FieldDef, 'type'> }
  | { kind: 'path'; v: unknown };

const and = (parts: Tri[]): Tri => (parts.includes(false) ? false : parts.includes(null) ? null : true);
const or = (parts: Tri[]): Tri => (parts.includes(true) ? true : parts.includes(null) ? null : false);

/** Compares strings by code point, as the C collation does. */
function compareText(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** What `->>` gives for a stored JSON value. */
function asText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** jsonb equality (object keys in any order, numbers by value). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) || isPlainObject(b)) {
    if (!isPlainObject(a) || !isPlainObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return a === b;
}

/** jsonb `@>`. */
function jsonContains(a: unknown, b: unknown): boolean {
  if (isPlainObject(b)) return isPlainObject(a) && Object.keys(b).every((k) => Object.hasOwn(a, k) && jsonContains(a[k], b[k]));
  if (Array.isArray(b)) return Array.isArray(a) && b.every((item) => a.some((x) => jsonContains(x, item)));
  return !Array.isArray(a) && !isPlainObject(a) && a === b;
}

/**
 * baas_fold() in code: lowercase without accents, as Postgres' lower(unaccent()) for the
 * letters people type (decomposable accents and the common ligatures and special letters).
 */
const SPECIAL: Record<string, string> = { ß: 'ss', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', đ: 'd', Đ: 'D', ł: 'l', Ł: 'L', þ: 'th', Þ: 'TH' };
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '')
    .replace(/[ßæÆœŒøØđĐłŁþÞ]/g, (c) => SPECIAL[c] ?? c)
    .toLowerCase();
}

function folded(op: string, text: string, operand: string): boolean {
  const x = fold(text);
  const y = fold(operand);
  if (op === '$ieq') return x === y;
  return op === '$icontains' ? x.includes(y) : x.startsWith(y);
}

const COMPARE = { $gt: (d: number) => d > 0, $gte: (d: number) => d >= 0, $lt: (d: number) => d < 0, $lte: (d: number) => d <= 0 } as const;
type Ordering = keyof typeof COMPARE;
const isOrdering = (op: string): op is Ordering => Object.hasOwn(COMPARE, op);

class Evaluator {
  constructor(
    private readonly fields: Map<string, FieldDef>,
    private readonly doc: EvalDoc,
    private readonly scope?: VarScope,
  ) {}

  node(node: unknown): Tri {
    if (!isPlainObject(node)) throw new Error('a filter node must be an object');
    const parts: Tri[] = [];
    for (const [key, value] of Object.entries(node)) {
      if (key === '$and' || key === '$or') {
        const items = (value as unknown[]).map((item) => this.node(item));
        parts.push(key === '$and' ? and(items) : or(items));
      } else if (key === '$not') {
        parts.push(!(this.node(value) ?? false));
      } else {
        parts.push(this.field(key, value));
      }
    }
    return and(parts);
  }

  private field(key: string, value: unknown): Tri {
    const target = this.target(key);
    const ops: [string, unknown][] =
      isPlainObject(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => k.startsWith('$')) ? Object.entries(value) : [['$eq', value]];
    return and(
      ops.map(([op, operand]) => {
        const resolved = this.resolve(op, operand);
        return resolved ? this.condition(target, op, resolved.value) : null;
      }),
    );
  }

  private resolve(op: string, operand: unknown): { value: unknown } | null {
    const scope = this.scope;
    if (!scope) return { value: operand };
    const one = (v: unknown): unknown => (isVarRef(v) ? varValue(scope.values, parseVar(v, '', this.fields, scope.data)) : literalOf(v));
    if ((op === '$in' || op === '$nin') && Array.isArray(operand)) return { value: operand.map(one).filter((v) => v !== undefined && v !== null) };
    const value = one(operand);
    if (isVarRef(operand) && (value === undefined || value === null)) return null;
    return { value };
  }

  private typedValue(field: Pick<FieldDef, 'type'>, raw: unknown): Value {
    switch (field.type) {
      case 'number':
      case 'integer':
        return { kind: 'number', v: typeof raw === 'number' ? raw : null };
      case 'json':
      case 'array':
        return { kind: 'jsonb', v: raw, field };
      case 'reference':
        return { kind: 'text', v: asText(raw), valueType: 'uuid' };
      default:
        return { kind: 'text', v: asText(raw), valueType: field.type };
    }
  }

  /** The value a filter key reads, and whether it exists (`$exists`). */
  private target(key: string): { value: Value; exists: boolean } {
    if (this.scope && key.startsWith('@')) {
      const spec = parseVar(key, '', this.fields, this.scope.data);
      const raw = varValue(this.scope.values, spec);
      if (spec.kind === 'auth' || spec.kind === 'request') {
        const exists = raw !== undefined && raw !== null;
        if (spec.kind === 'auth' && spec.key === 'roles') return { value: { kind: 'jsonb', v: raw, field: { type: 'array' } }, exists };
        const valueType = spec.kind === 'auth' && spec.key === 'id' ? 'uuid' : spec.kind === 'auth' && spec.key === 'emailVerified' ? 'boolean' : 'string';
        return { value: { kind: 'text', v: asText(raw), valueType }, exists };
      }
      const [head, ...rest] = spec.segments;
      const data = this.scope.values.data ?? {};
      const exists = Object.hasOwn(data, head);
      if (rest.length > 0) return { value: { kind: 'path', v: raw }, exists: raw !== undefined };
      const field = this.fields.get(head);
      if (!field && DATA_SYSTEM_FIELDS.has(head)) return { value: { kind: 'text', v: asText(raw)?.toLowerCase() ?? null, valueType: 'uuid' }, exists };
      return { value: this.typedValue(field!, raw), exists };
    }
    const [head, ...rest] = key.split('.') as [string, ...string[]];
    if (rest.length === 0) {
      switch (head) {
        case 'id':
          return { value: { kind: 'text', v: this.doc.id?.toLowerCase() ?? null, valueType: 'uuid' }, exists: true };
        case 'ownerId':
          return { value: { kind: 'text', v: this.doc.ownerId?.toLowerCase() ?? null, valueType: 'uuid' }, exists: this.doc.ownerId !== null };
        case 'createdAt':
        case 'updatedAt': {
          const t = this.doc[head];
          return { value: { kind: 'time', v: t === undefined ? null : new Date(t).getTime() }, exists: true };
        }
      }
    }
    const field = this.fields.get(head);
    if (!field) throw new Error(`"${head}" is not a field of this collection`);
    const exists = Object.hasOwn(this.doc.data, head);
    if (rest.length > 0) {
      let v: unknown = this.doc.data[head];
      for (const seg of rest) v = isPlainObject(v) && Object.hasOwn(v, seg) ? v[seg] : undefined;
      return { value: { kind: 'path', v }, exists: v !== undefined };
    }
    return { value: this.typedValue(field, this.doc.data[head]), exists };
  }

  private condition(target: { value: Value; exists: boolean }, op: string, operand: unknown): Tri {
    if (op === '$exists') return operand ? target.exists : !target.exists;
    const t = target.value;
    switch (t.kind) {
      case 'text':
      case 'number':
      case 'time':
        return this.scalar(t, op, operand);
      case 'jsonb':
        return this.jsonb(t, op, operand);
      case 'path':
        return this.path(t.v, op, operand);
    }
  }

  /** An operand as the compiler binds it for this kind of target. */
  private operandOf(t: Extract<Value, { kind: 'text' | 'number' | 'time' }>, operand: unknown): string | number {
    if (t.kind === 'number') return operand as number;
    if (t.kind === 'time') return new Date(normaliseDate(operand)!).getTime();
    if (t.valueType === 'date') return normaliseDate(operand)!;
    if (t.valueType === 'uuid') return (operand as string).toLowerCase();
    return String(operand);
  }

  private scalar(t: Extract<Value, { kind: 'text' | 'number' | 'time' }>, op: string, operand: unknown): Tri {
    const v = t.v;
    const compare = (a: string | number, b: string | number) => (typeof a === 'string' ? compareText(a, b as string) : a - (b as number));
    switch (op) {
      case '$eq':
        if (operand === null) return v === null;
        return v === null ? null : compare(v, this.operandOf(t, operand)) === 0;
      case '$ne':
        if (operand === null) return v !== null;
        return v === null ? true : compare(v, this.operandOf(t, operand)) !== 0;
      case '$in':
      case '$nin': {
        const values = (operand as unknown[]).map((o) => this.operandOf(t, o));
        if (values.length === 0) return op === '$in' ? false : true;
        if (v === null) return op === '$in' ? null : true;
        const found = values.some((o) => compare(v, o) === 0);
        return op === '$in' ? found : !found;
      }
      case '$contains':
      case '$startsWith': {
        if (v === null) return null;
        const s = v as string;
        const o = String(operand);
        return op === '$contains' ? s.includes(o) : s.startsWith(o);
      }
      case '$ieq':
      case '$icontains':
      case '$istartsWith':
        return v === null ? null : folded(op, v as string, String(operand));
      default:
        if (isOrdering(op)) return v === null ? null : COMPARE[op](compare(v, this.operandOf(t, operand)));
        throw new Error(`${op} is not a known operator`);
    }
  }

  private jsonb(t: Extract<Value, { kind: 'jsonb' }>, op: string, operand: unknown): Tri {
    const v = t.v;
    switch (op) {
      case '$eq':
        if (operand === null) return v === undefined;
        return v === undefined ? null : jsonEqual(v, operand);
      case '$ne':
        if (operand === null) return v !== undefined;
        return v === undefined ? true : !jsonEqual(v, operand);
      case '$contains':
        if (v === undefined) return null;
        return jsonContains(v, t.field.type === 'array' ? [operand] : operand);
      default:
        throw new Error(`${op} is not supported for ${t.field.type} fields`);
    }
  }

  /** Conditions inside a json field: compared by the type of the filter value. */
  private path(v: unknown, op: string, operand: unknown): Tri {
    const text = typeof v === 'string' ? v : null;
    const num = typeof v === 'number' ? v : null;
    switch (op) {
      case '$eq':
        if (operand === null) return v === undefined || v === null;
        return v === undefined ? null : jsonEqual(v, operand);
      case '$ne':
        if (operand === null) return v !== undefined && v !== null;
        return v === undefined ? true : !jsonEqual(v, operand);
      case '$in':
      case '$nin': {
        const values = operand as unknown[];
        if (values.length === 0) return op === '$in' ? false : true;
        if (v === undefined) return op === '$in' ? null : true;
        const found = values.some((o) => jsonEqual(v, o));
        return op === '$in' ? found : !found;
      }
      case '$contains':
      case '$startsWith':
        if (text === null) return null;
        return op === '$contains' ? text.includes(operand as string) : text.startsWith(operand as string);
      case '$ieq':
      case '$icontains':
      case '$istartsWith':
        return text === null ? null : folded(op, text, operand as string);
      default:
        if (!isOrdering(op)) throw new Error(`${op} is not a known operator`);
        if (typeof operand === 'number') return num === null ? null : COMPARE[op](num - operand);
        return text === null ? null : COMPARE[op](compareText(text, operand as string));
    }
  }
}

/** The filter's answer for one document: true, false or null (unknown, which a WHERE clause treats as false). */
export function evaluateFilter(def: Pick<CollectionDef, 'fields'>, filter: Record<string, unknown>, doc: EvalDoc, scope?: VarScope): Tri {
  return new Evaluator(new Map(def.fields.map((f) => [f.name, f])), doc, scope).node(filter);
}
