import { createHash } from 'node:crypto';
import { COLLECTION_NAME, type CollectionDef, FIELD_NAME, type FieldDef, type IndexDef, searchIndexOf } from './definition.js';

/**
 * SQL building blocks for runtime collections (one table per collection in the `data` schema,
 * so their SQL is built at run time; docs/decisions.md says why this is not Kysely). Identifiers
 * are checked against strict patterns and quoted by `ident` (tables: `tableOf`), field names
 * become JSON keys through `fieldLiteral`, and every value goes through `Params`, the one
 * binder, as a bound parameter.
 */

/** The Postgres schema holding one table per collection. */
export const DATA_SCHEMA = 'data';

export class UnsafeIdentifierError extends Error {
  override name = 'UnsafeIdentifierError';
}

/** What `ident` quotes: letters, digits, `_` and `-` (index names), never a quote. */
const SAFE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

/** The one quoting of identifiers (schema, table, column and index names) in runtime collection SQL. */
export function ident(name: string): string {
  if (!SAFE_IDENTIFIER.test(name)) throw new UnsafeIdentifierError(`unsafe identifier`);
  return `"${name}"`;
}

/** The quoted table of a collection, after checking its name again. */
export function tableOf(collection: string): string {
  if (!COLLECTION_NAME.test(collection)) throw new UnsafeIdentifierError(`unsafe collection name`);
  return `${ident(DATA_SCHEMA)}.${ident(collection)}`;
}

/** A field name as a SQL string literal (only names matching FIELD_NAME: no quotes possible). */
export function fieldLiteral(name: string): string {
  if (!FIELD_NAME.test(name)) throw new UnsafeIdentifierError(`unsafe field name`);
  return `'${name}'`;
}

/** The SQL type a sort/filter expression compares as. */
export type SqlType = 'text' | 'numeric' | 'timestamptz' | 'uuid' | 'jsonb';

export interface Expr {
  sql: string;
  type: SqlType;
  /** False for columns that are never NULL (id, createdAt, updatedAt). */
  nullable: boolean;
}

/** Table columns behind the system fields. */
export const SYSTEM_COLUMNS: Record<string, Expr> = {
  id: { sql: 'id', type: 'uuid', nullable: false },
  createdAt: { sql: 'created_at', type: 'timestamptz', nullable: false },
  updatedAt: { sql: 'updated_at', type: 'timestamptz', nullable: false },
  ownerId: { sql: 'owner_id', type: 'uuid', nullable: true },
};

/**
 * The expression that reads a declared field, identical in queries and in index definitions
 * so that the planner can use the index. Numbers read as NULL when the stored value is not a
 * JSON number, so a value written under an older definition can never make a query fail.
 * Dates are stored as normalised ISO-8601 UTC strings, whose text order is their time order.
 */
export function fieldExpr(field: Pick<FieldDef, 'name' | 'type'>, alias = ''): Expr {
  return fieldExprOn(field, alias ? `${alias}.data` : 'data');
}

/** fieldExpr over any jsonb expression holding the fields (a row's `data`, or a bound rule variable). */
export function fieldExprOn(field: Pick<FieldDef, 'name' | 'type'>, data: string): Expr {
  const key = fieldLiteral(field.name);
  switch (field.type) {
    case 'number':
    case 'integer':
      return {
        sql: `(CASE WHEN jsonb_typeof(${data}->${key}) = 'number' THEN (${data}->>${key})::numeric END)`,
        type: 'numeric',
        nullable: true,
      };
    case 'json':
    case 'array':
      return { sql: `(${data}->${key})`, type: 'jsonb', nullable: true };
    default:
      return { sql: `(${data}->>${key})`, type: 'text', nullable: true };
  }
}

/** The expression of a field or of a column-backed system field. */
export function exprOf(def: Pick<CollectionDef, 'fields'>, name: string, alias = ''): Expr | undefined {
  const column = SYSTEM_COLUMNS[name];
  if (column) return { ...column, sql: alias ? `${alias}.${column.sql}` : column.sql };
  const field = def.fields.find((f) => f.name === name);
  return field ? fieldExpr(field, alias) : undefined;
}

/** Collects bound parameters and hands out their placeholders. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

/** Deterministic, collision-free names for the indexes of a collection (`-` never occurs in a collection name). */
export function indexName(prefix: 'ix' | 'ux' | 'pk', collection: string, spec: string): string {
  return `${prefix}-${createHash('sha256').update(`${collection}\n${spec}`).digest('hex').slice(0, 24)}`;
}

/**
 * The text a search index covers, as a tsvector: its fields joined, folded (lowercase, no
 * accents: baas_fold) and parsed with the index's language. Written identically in the
 * index and in `$search` queries so that the GIN index serves them.
 */
export function searchVectorSql(index: IndexDef, alias = ''): string {
  const text = index.fields.map((name) => `coalesce(${fieldExpr({ name, type: 'string' }, alias).sql}, '')`).join(` || ' ' || `);
  return `to_tsvector('${index.language ?? 'simple'}'::regconfig, baas_fold(${text}))`;
}

/** A `$search` query against the collection's search index: the match and its rank. */
export function searchSql(def: { indexes?: CollectionDef['indexes'] }, query: string, params: Params, alias = 'd'): { match: string; rank: string } | undefined {
  const index = searchIndexOf(def);
  if (!index) return undefined;
  const vector = searchVectorSql(index, alias);
  const q = `websearch_to_tsquery('${index.language ?? 'simple'}'::regconfig, baas_fold(${params.add(query, 'text')}))`;
  return { match: `${vector} @@ ${q}`, rank: `ts_rank(${vector}, ${q})::numeric` };
}

