import { type CollectionDef, FIELD_NAME, SCALAR_TYPES } from '../definition.js';
import { textProblem } from '../../common/safe-json.js';
import { type Expr, exprOf, type Params } from '../sql.js';

/**
 * Multi-field sort and keyset (cursor) paging. The order always ends with `id`, so it is
 * total; a cursor carries the sort values of the last row returned, and the next page is
 * "rows after those values" in that order. Rows inserted or deleted meanwhile never make an
 * existing row appear twice or be skipped. NULLs sort last ascending and first descending
 * (Postgres' default), and the keyset predicate treats them the same way.
 */

export const MAX_SORT_KEYS = 4;
export const MAX_CURSOR_CHARS = 12_000;

export class PagingError extends Error {
  constructor(
    readonly param: 'sort' | 'cursor',
    message: string,
  ) {
    super(message);
  }
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
  if (parts.length > MAX_SORT_KEYS) throw new PagingError('sort', `must name at most ${MAX_SORT_KEYS} fields`);
  for (const raw of parts) {
    const part = raw.trim();
    const desc = part.startsWith('-');
    const name = part.replace(/^[-+]/, '');
    if (name === RANK) {
      if (!rank) throw new PagingError('sort', `${RANK} needs a "$search" at the top of the filter`);
      if (keys.some((k) => k.name === name)) throw new PagingError('sort', `names "${name}" twice`);
      keys.push({ name, desc, expr: { sql: rank, type: 'numeric', nullable: false } });
      continue;
    }
    if (!FIELD_NAME.test(name)) throw new PagingError('sort', `"${name.slice(0, 64)}" is not a valid field name`);
    const field = def.fields.find((f) => f.name === name);
    if (field && !SCALAR_TYPES.has(field.type)) throw new PagingError('sort', `cannot sort by the ${field.type} field "${name}"`);
    const expr = exprOf(def, name, alias);
    if (!expr) throw new PagingError('sort', `"${name}" is not a sortable field of this collection`);
    if (keys.some((k) => k.name === name)) throw new PagingError('sort', `names "${name}" twice`);
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

export function encodeCursor(keys: SortKey[], values: (string | null)[]): string {
  return Buffer.from(JSON.stringify({ s: sortSignature(keys), v: values })).toString('base64url');
}

/** The sort values carried by a cursor, checked against the current sort and each key's type. */
export function decodeCursor(keys: SortKey[], cursor: string): (string | null)[] {
  const invalid = (why: string) => new PagingError('cursor', why);
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid('is not a cursor from this api');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a cursor from this api');
  }
  if (typeof decoded !== 'object' || decoded === null || !('s' in decoded) || !('v' in decoded)) throw invalid('is not a cursor from this api');
  const { s, v } = decoded;
  if (s !== sortSignature(keys)) throw invalid('belongs to a different sort order');
  if (!Array.isArray(v) || v.length !== keys.length) throw invalid('is not a cursor from this api');
  return v.map((value: unknown, i) => {
    const key = keys[i]!;
    if (value === null && key.expr.nullable) return null;
    if (typeof value !== 'string') throw invalid('is not a cursor from this api');
    const shape = VALUE_SHAPES[key.expr.type];
    if (shape && !shape.test(value)) throw invalid('is not a cursor from this api');
    if (key.expr.type === 'timestamptz' && !isRealTimestamp(value)) throw invalid('is not a cursor from this api');
    if (textProblem(value)) throw invalid('is not a cursor from this api');
    return value;
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
