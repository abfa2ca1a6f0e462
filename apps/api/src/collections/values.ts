import type { ErrorDetail } from '../common/app-exception.js';
import { type CollectionDef, type FieldDef, type FieldType, isSystemField, type ItemType } from './definition.js';
import { findUnsafeJson, isPlainObject } from '../common/safe-json.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** A valid ISO-8601 date or date-time (years 0001-9999), normalised to UTC with milliseconds; undefined otherwise. */
export function normaliseDate(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const m = ISO_DATE.exec(value);
  if (!m) return undefined;
  // A time without a zone would be read in the server's zone: require one.
  if (m[4] !== undefined && m[8] === undefined) return undefined;
  const ms = Date.parse(m[4] === undefined ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) return undefined;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) return undefined;
  // Date.parse rolls 2026-02-30 over into March: reject dates that do not exist.
  if (m[4] === undefined && date.toISOString().slice(0, 10) !== value) return undefined;
  return date.toISOString();
}

type Checked = { ok: true; value: unknown } | { ok: false; message: string };

function checkScalar(type: ItemType | FieldType, value: unknown): Checked {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? { ok: true, value } : { ok: false, message: 'must be a string' };
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? { ok: true, value } : { ok: false, message: 'must be a number' };
    case 'integer':
      return Number.isSafeInteger(value) ? { ok: true, value } : { ok: false, message: 'must be an integer' };
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false, message: 'must be true or false' };
    case 'date': {
      const date = normaliseDate(value);
      return date ? { ok: true, value: date } : { ok: false, message: 'must be an ISO-8601 date or date-time with a time zone' };
    }
    case 'reference':
      return typeof value === 'string' && UUID.test(value)
        ? { ok: true, value: value.toLowerCase() }
        : { ok: false, message: 'must be the id (UUID) of a document' };
    default:
      return { ok: true, value };
  }
}

/** Checks one non-null value against its field: type, then the field's constraints. Returns the stored form. */
export function checkValue(field: FieldDef, value: unknown): Checked {
  const typed = checkScalar(field.type, value);
  if (!typed.ok) return typed;
  const v = typed.value;
  switch (field.type) {
    case 'string': {
      const s = v as string;
      const length = [...s].length;
      if (field.min !== undefined && length < field.min) return { ok: false, message: `must be at least ${field.min} characters` };
      if (field.max !== undefined && length > field.max) return { ok: false, message: `must be at most ${field.max} characters` };
      if (field.pattern !== undefined && !new RegExp(`^(?:${field.pattern})$`, 'u').test(s)) {
        return { ok: false, message: `must match the pattern ${field.pattern}` };
      }
      break;
    }
    case 'number':
    case 'integer': {
      const n = v as number;
      if (field.min !== undefined && n < field.min) return { ok: false, message: `must be at least ${field.min}` };
      if (field.max !== undefined && n > field.max) return { ok: false, message: `must be at most ${field.max}` };
      break;
    }
    case 'array': {
      if (!Array.isArray(v)) return { ok: false, message: 'must be an array' };
      if (field.min !== undefined && v.length < field.min) return { ok: false, message: `must have at least ${field.min} items` };
      if (field.max !== undefined && v.length > field.max) return { ok: false, message: `must have at most ${field.max} items` };
      if (field.items) {
        const items: unknown[] = [];
        for (let i = 0; i < v.length; i++) {
          const item = v[i] === null ? ({ ok: false, message: 'must not be null' } as Checked) : checkScalar(field.items, v[i]);
          if (!item.ok) return { ok: false, message: `item ${i} ${item.message}` };
          items.push(item.value);
        }
        return { ok: true, value: items };
      }
      break;
    }
    default:
      break;
  }
  if (field.enum !== undefined && !field.enum.includes(v as string | number)) {
    return { ok: false, message: `must be one of ${field.enum.map((e) => JSON.stringify(e)).join(', ')}` };
  }
  return { ok: true, value: v };
}

/** `acl` as a client sends it: `null` (none) or `{ read?: [...], write?: [...] }` of `*`, `user:<id>`, `role:<name>`. */
export interface Acl {
  read?: string[];
  write?: string[];
}
const ACL_ENTRY = /^(\*|user:[0-9a-fA-F-]{36}|role:[A-Za-z0-9_-]{1,64})$/;
const ACL_MAX_ENTRIES = 100;

export function checkAcl(value: unknown): { ok: true; value: Acl | null } | { ok: false; details: ErrorDetail[] } {
  if (value === null) return { ok: true, value: null };
  if (!isPlainObject(value)) return { ok: false, details: [{ path: 'acl', message: 'must be null or { read?, write? }' }] };
  const details: ErrorDetail[] = [];
  const acl: Acl = {};
  for (const key of Object.keys(value)) {
    if (key !== 'read' && key !== 'write') {
      details.push({ path: `acl.${key}`, message: 'is not an acl list (read, write)' });
      continue;
    }
    const list = value[key];
    if (!Array.isArray(list) || list.length > ACL_MAX_ENTRIES) {
      details.push({ path: `acl.${key}`, message: `must be an array of at most ${ACL_MAX_ENTRIES} entries` });
      continue;
    }
    list.forEach((entry, i) => {
      if (typeof entry !== 'string' || !ACL_ENTRY.test(entry)) {
        details.push({ path: `acl.${key}.${i}`, message: 'must be "*", "user:<id>" or "role:<name>"' });
      }
    });
    acl[key] = [...new Set((list as string[]).map((e) => (e.startsWith('user:') ? e.toLowerCase() : e)))];
  }
  return details.length ? { ok: false, details } : { ok: true, value: acl };
}

export type WriteMode = 'create' | 'replace' | 'patch';

export interface CheckedWrite {
  /** The new stored data (create/replace), or the keys to set/remove (patch). */
  set: Record<string, unknown>;
  unset: string[];
  /** Present when the body carried `acl` (null = remove it). */
  acl?: Acl | null;
}

/**
 * Validates a write body against the collection's fields. Unknown fields and system fields
 * are errors; `null` means "no value" (dropped on create/replace, removes the key on patch).
 * Create and replace apply defaults and require required fields; a patch checks only what it
 * touches. Returns every problem at once, one detail per field.
 */
export function checkWrite(
  def: Pick<CollectionDef, 'fields'>,
  body: Record<string, unknown>,
  mode: WriteMode,
): { ok: true; value: CheckedWrite } | { ok: false; details: ErrorDetail[] } {
  const details: ErrorDetail[] = [];
  const unsafe = findUnsafeJson(body);
  if (unsafe) return { ok: false, details: [{ path: unsafe.path.join('.'), message: unsafe.message }] };
  const fields = new Map(def.fields.map((f) => [f.name, f]));
  const out: CheckedWrite = { set: {}, unset: [] };
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (key === 'acl') {
      const acl = checkAcl(value);
      if (acl.ok) out.acl = acl.value;
      else details.push(...acl.details);
      continue;
    }
    if (isSystemField(key)) {
      details.push({ path: key, message: 'is a system field set by the server' });
      continue;
    }
    const field = fields.get(key);
    if (!field) {
      details.push({ path: key, message: 'is not a field of this collection' });
      continue;
    }
    if (value === null || value === undefined) {
      if (mode === 'patch') {
        if (field.required) details.push({ path: key, message: 'is required' });
        else out.unset.push(key);
      }
      continue;
    }
    const checked = checkValue(field, value);
    if (checked.ok) out.set[key] = checked.value;
    else details.push({ path: key, message: checked.message });
  }
  if (mode !== 'patch') {
    for (const field of def.fields) {
      if (out.set[field.name] !== undefined || details.some((d) => d.path === field.name)) continue;
      if (field.default !== undefined && field.default !== null) out.set[field.name] = field.default;
      else if (field.required) details.push({ path: field.name, message: 'is required' });
    }
  }
  return details.length ? { ok: false, details } : { ok: true, value: out };
}
