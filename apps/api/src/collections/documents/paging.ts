import { AppException } from '../../common/app-exception.js';
import { decodeCursor, invalidCursor } from '../../common/paging.js';
import { textProblem } from '../../common/safe-json.js';
import { type CollectionDef, FIELD_NAME, SCALAR_TYPES } from '../definition.js';
import { type Expr, exprOf, type Params } from '../sql.js';

/**
 * Multi-field sort and keyset (cursor) paging. The order always ends with `id`, so it is
 * total; a cursor carries the sort values of the last row returned, and the next page is
 * "rows after those values" in that order. Rows inserted or deleted meanwhile never make an
 * existing row appear twice or be skipped. NULLs sort last ascending and first descending
 * (Postgres' default), and the keyset predicate treats them the same way. The cursor itself
 * is written and read by the one codec of every list (common/paging.ts).
 */

export const MAX_SORT_KEYS = 4;

/** The 400 for a `sort` this collection cannot sort by (code INVALID_SORT). */
export function invalidSort(why: string): AppException {
  return new AppException(400, 'INVALID_SORT', `The sort is not valid: ${why}`, [{ path: 'sort', message: why }]);
}

export interface SortKey {
  name: string;
  desc: boolean;
  expr: Expr;
}

/** The sort name of full-text relevance (with a top-level `$search` filter). */
export const RANK = '$rank';

/**
 * Parses `sort` (`-age,title`); defaults to `createdAt`. Appends `id` as the tie-breaker.
 * `$rank` sorts by relevance to the filter's `$search`: `rank` is its SQL, whose query text
 * is bound as the statement's first parameter (buildListQuery).
 */
export function parseSort(def: Pick<CollectionDef, 'fields'>, sort: string | undefined, alias = 'd', rank?: string): SortKey[] {
  const keys: SortKey[] = [];
  const parts = sort === undefined || sort.trim() === '' ? ['createdAt'] : sort.split(',');
  if (parts.length > MAX_SORT_KEYS) throw invalidSort(`must name at most ${MAX_SORT_KEYS} fields`);
  for (const raw of parts) {
    const part = raw.trim();
    const desc = part.startsWith('-');
    const name = part.replace(/^[-+]/, '');
    if (name === RANK) {
      if (!rank) throw invalidSort(`${RANK} needs a "$search" at the top of the filter`);
      if (keys.some((k) => k.name === name)) throw invalidSort(`names "${name}" twice`);
      keys.push({ name, desc, expr: { sql: rank, type: 'numeric', nullable: false } });
      continue;
    }
    if (!FIELD_NAME.test(name)) throw invalidSort(`"${name.slice(0, 64)}" is not a valid field name`);
    const field = def.fields.find((f) => f.name === name);
    if (field && !SCALAR_TYPES.has(field.type)) throw invalidSort(`cannot sort by the ${field.type} field "${name}"`);
    const expr = exprOf(def, name, alias);
    if (!expr) throw invalidSort(`"${name}" is not a sortable field of this collection`);
    if (keys.some((k) => k.name === name)) throw invalidSort(`names "${name}" twice`);
    keys.push({ name, desc, expr });
  }
  if (keys.at(-1)?.name !== 'id') keys.push({ name: 'id', desc: false, expr: exprOf(def, 'id', alias)! });
  return keys;
}

/** The sort as one canonical string: a cursor only continues the sort it came from. */
export function sortSignature(keys: SortKey[]): string {
  return keys.map((k) => (k.desc ? `-${k.name}` : k.name)).join(',');
}

export function orderBySql(keys: SortKey[]): string {
  return keys.map((k) => `${k.expr.sql} ${k.desc ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`).join(', ');
}

/** Selects each sort key as text (`s0`, `s1`, ...): the values a cursor carries. */
export function sortColumnsSql(keys: SortKey[]): string {
  return keys.map((k, i) => `${k.expr.sql}::text AS s${i}`).join(', ');
}

const VALUE_SHAPES: Record<Expr['type'], RegExp | undefined> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  numeric: /^-?\d{1,1000}(\.\d{1,1000})?$/,
  timestamptz: /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/,
  text: undefined,
  jsonb: undefined,
};

/** A timestamp of the right shape that also exists (2026-13-45T25:61:61Z has the shape but no day). */
function isRealTimestamp(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2})(?::?\d{2})?)?$/.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59 && Number(m[7] ?? 0) <= 15;
}

/**
 * What the cursor after `row` carries (for pageOf): the sort's signature and the row's sort
 * values as sortColumnsSql selects them (`s0`, `s1`, ...).
 */
export function cursorAfter(keys: SortKey[], row: Partial<Record<`s${number}`, string | null>>): { s: string; v: (string | null)[] } {
  return { s: sortSignature(keys), v: keys.map((_, i) => row[`s${i}`] ?? null) };
}

/**
 * The sort values carried by a cursor, checked against the current sort (400 INVALID_CURSOR
 * "belongs to a different sort order" otherwise) and each key's type, so that nothing but a
 * value of the key's type ever reaches the keyset predicate.
 */
export function cursorValues(keys: SortKey[], cursor: string): (string | null)[] {
  return decodeCursor(cursor, (decoded) => {
    if (typeof decoded !== 'object' || decoded === null || !('s' in decoded) || !('v' in decoded)) return undefined;
    const { s, v } = decoded;
    if (s !== sortSignature(keys)) throw invalidCursor('belongs to a different sort order');
    if (!Array.isArray(v) || v.length !== keys.length) return undefined;
    const values: (string | null)[] = [];
    for (const [i, value] of (v as unknown[]).entries()) {
      const key = keys[i]!;
      if (value === null && key.expr.nullable) {
        values.push(null);
        continue;
      }
      if (typeof value !== 'string') return undefined;
      const shape = VALUE_SHAPES[key.expr.type];
      if (shape && !shape.test(value)) return undefined;
      if (key.expr.type === 'timestamptz' && !isRealTimestamp(value)) return undefined;
      if (textProblem(value)) return undefined;
      values.push(value);
    }
    return values;
  });
}

/** Strictly after the cursor on keys[from..]: an OR over the keys, equal before and beyond on its own key (NULL greatest). */
function orExpansion(keys: SortKey[], placeholders: (string | null)[], from: number): string {
  const branches: string[] = [];
  for (let i = from; i < keys.length; i++) {
    const key = keys[i]!;
    const p = placeholders[i];
    const { sql, nullable } = key.expr;
    let beyond: string | undefined;
    if (!key.desc) beyond = p === null ? undefined : nullable ? `(${sql} > ${p} OR ${sql} IS NULL)` : `${sql} > ${p}`;
    else beyond = p === null ? `${sql} IS NOT NULL` : `${sql} < ${p}`;
    if (beyond === undefined) continue; // nothing sorts after NULL ascending
    const equal = keys.slice(from, i).map((k, j) => (placeholders[from + j] === null ? `${k.expr.sql} IS NULL` : `${k.expr.sql} = ${placeholders[from + j]}`));
    branches.push(`(${[...equal, beyond].join(' AND ')})`);
  }
  return branches.length ? `(${branches.join(' OR ')})` : 'FALSE';
}

/**
 * "Strictly after the cursor row in this order", as one or two disjoint predicates; rows
 * matching the first all sort before rows matching the second. Each starts with a bound on
 * the first sort key that an index on it can serve, so a page deep into a large collection
 * costs the same as the first one (an OR alone would make Postgres scan from the start).
 */
export function afterCursorParts(keys: SortKey[], values: (string | null)[], params: Params): string[] {
  const placeholders = values.map((v, i) => (v === null ? null : params.add(v, keys[i]!.expr.type)));
  // Every key non-null and ascending: one row comparison, which a btree index serves directly.
  if (keys.every((k) => !k.desc && !k.expr.nullable)) {
    return [`(${keys.map((k) => k.expr.sql).join(', ')}) > (${placeholders.join(', ')})`];
  }
  const [first] = keys as [SortKey, ...SortKey[]];
  const p = placeholders[0];
  const k = first.expr.sql;
  const rest = () => orExpansion(keys, placeholders, 1);
  if (p === null) {
    // Inside the NULLs of the first key: ascending, they are last; descending, every non-null value follows.
    return first.desc ? [`(${k} IS NULL AND ${rest()})`, `${k} IS NOT NULL`] : [`(${k} IS NULL AND ${rest()})`];
  }
  const bounded = `${k} ${first.desc ? '<=' : '>='} ${p} AND (${k} ${first.desc ? '<' : '>'} ${p} OR (${k} = ${p} AND ${rest()}))`;
  // Ascending, the NULLs of a nullable first key all come after any value.
  return !first.desc && first.expr.nullable ? [`(${bounded})`, `${k} IS NULL`] : [`(${bounded})`];
}
