import pg from 'pg';
import { type CollectionDef, type FieldDef, type IndexDef, indexFields, SCALAR_TYPES } from './definition.js';
import { compileFilter, FilterError } from './documents/filter.js';
import { DATA_SCHEMA, exprOf, fieldExpr, fieldLiteral, ident, indexName, Params, searchVectorSql, tableOf } from './sql.js';

/**
 * DDL of a collection's table and indexes. Runs inside the transaction that writes the
 * definition, so a definition and its table never disagree.
 */

export interface IndexSpec {
  name: string;
  /** The complete CREATE INDEX statement (IF NOT EXISTS: a no-op after createConcurrently built it). */
  create: string;
  /** The same index built without blocking writes (outside any transaction). */
  createConcurrently: string;
  unique: boolean;
  /** Field names it covers (for unique violations: the field to name in the error). */
  fields: string[];
  /** Where the definition asks for it (`fields.2.unique`, `indexes.0`): the path of a conflict. */
  source: string;
}

/** The table of a new collection, with its primary key and the indexes behind default paging and owner rules. */
export function createTableStatements(collection: string): string[] {
  const table = tableOf(collection);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${ident(DATA_SCHEMA)}`,
    `CREATE TABLE ${table} (
    "id" UUID NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "owner_id" UUID,
    "acl" JSONB,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT ${ident(indexName('pk', collection, 'id'))} PRIMARY KEY ("id")
)`,
    `CREATE INDEX ${ident(indexName('ix', collection, 'created_at,id'))} ON ${table} ("created_at", "id")`,
    `CREATE INDEX ${ident(indexName('ix', collection, 'owner_id,created_at,id'))} ON ${table} ("owner_id", "created_at", "id")`,
  ];
}

export function dropTableStatement(collection: string): string {
  return `DROP TABLE IF EXISTS ${tableOf(collection)}`;
}

function statements(name: string, unique: boolean, table: string, body: string): Pick<IndexSpec, 'name' | 'create' | 'createConcurrently'> {
  const kind = unique ? 'UNIQUE INDEX' : 'INDEX';
  return {
    name,
    create: `CREATE ${kind} IF NOT EXISTS ${ident(name)} ON ${table} ${body}`,
    createConcurrently: `CREATE ${kind} CONCURRENTLY IF NOT EXISTS ${ident(name)} ON ${table} ${body}`,
  };
}

/** The indexes a definition asks for: one unique index per unique field, one per `indexes` entry. */
export function indexSpecs(def: Pick<CollectionDef, 'name' | 'fields' | 'indexes'>): IndexSpec[] {
  const table = tableOf(def.name);
  const specs: IndexSpec[] = [];
  for (const [i, field] of def.fields.entries()) {
    if (!field.unique || !SCALAR_TYPES.has(field.type)) continue;
    const body = `(${fieldExpr(field).sql})`;
    const name = indexName('ux', def.name, `unique ${body}`);
    specs.push({ ...statements(name, true, table, body), unique: true, fields: [field.name], source: `fields.${i}.unique` });
  }
  for (const [i, entry] of def.indexes.entries()) {
    const index = indexFields(entry);
    const options: Partial<IndexDef> = Array.isArray(entry) ? {} : entry;
    const single = index.length === 1 ? def.fields.find((f) => f.name === index[0]) : undefined;
    let body: string;
    if (options.search) {
      body = `USING gin (${searchVectorSql(options as IndexDef)})`;
    } else if (single && !SCALAR_TYPES.has(single.type)) {
      // Arrays and JSON objects: a GIN index serves $contains (@>).
      body = `USING gin (${fieldExpr(single).sql} jsonb_path_ops)`;
    } else {
      const parts = index.map((name) => {
        const expr = exprOf(def, name);
        if (!expr) throw new Error(`index names an unknown field ${name}`); // checked by definitionIssues first
        return expr.sql.startsWith('(') ? expr.sql : ident(expr.sql);
      });
      body = `(${parts.join(', ')})`;
    }
    if (options.where) body += ` WHERE ${partialPredicateSql(def, options.where)}`;
    const unique = options.unique === true;
    const name = indexName(unique ? 'ux' : 'ix', def.name, unique ? `unique ${body}` : body);
    if (specs.some((s) => s.name === name)) continue;
    specs.push({ ...statements(name, unique, table, body), unique, fields: index, source: `indexes.${i}` });
  }
  return specs;
}

/**
 * The WHERE of a partial index: the filter compiled, its bound values written as literals (an
 * index definition has no parameters). Only declared fields: system timestamps would need a
 * cast that is not immutable.
 */
export function partialPredicateSql(def: Pick<CollectionDef, 'fields'>, where: Record<string, unknown>): string {
  const params = new Params();
  const sql = compileFilter(def, where, params, '');
  return sql.replace(/\$(\d+)/g, (_, n: string) => literalOf(params.values[Number(n) - 1]));
}

function literalOf(value: unknown): string {
  if (Array.isArray(value)) return `ARRAY[${value.map(literalOf).join(', ')}]`;
  return pg.escapeLiteral(String(value));
}

/** Problems of the `where` of partial indexes, with their paths. */
export function indexIssues(def: Pick<CollectionDef, 'fields' | 'indexes'>): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  def.indexes.forEach((entry, i) => {
    if (Array.isArray(entry) || !entry.where) return;
    try {
      const sql = partialPredicateSql(def, entry.where);
      if (sql.includes('::timestamptz')) issues.push({ path: ['indexes', i, 'where'], message: 'may name declared fields only' });
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      issues.push({ path: ['indexes', i, 'where', ...(err.path ? err.path.split('.') : [])], message: err.message });
    }
  });
  return issues;
}

export function dropIndexStatement(name: string): string {
  if (!/^(ix|ux)-[0-9a-f]{24}$/.test(name)) throw new Error('unsafe index name');
  return `DROP INDEX IF EXISTS ${ident(DATA_SCHEMA)}.${ident(name)}`;
}

/**
 * A predicate true for stored values that do not fit `field` (ignoring absent keys and JSON
 * null). Used before a field is added or its type changes, so existing documents are never
 * silently reinterpreted. CASE guards every cast: Postgres does not short-circuit OR.
 */
export function nonConformingPredicate(field: FieldDef): string | undefined {
  const key = fieldLiteral(field.name);
  const typeOf = `jsonb_typeof(data->${key})`;
  const text = `(data->>${key})`;
  const isoDate = `'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$'`;
  const uuid = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;
  const itemCheck = (t: string): string => {
    switch (t) {
      case 'integer':
        return `CASE WHEN jsonb_typeof(e) = 'number' THEN (e#>>'{}')::numeric % 1 <> 0 ELSE true END`;
      case 'date':
        return `CASE WHEN jsonb_typeof(e) = 'string' THEN (e#>>'{}') !~ ${isoDate} ELSE true END`;
      default:
        return `jsonb_typeof(e) <> '${t}'`;
    }
  };
  let bad: string;
  switch (field.type) {
    case 'json':
      return undefined;
    case 'string':
    case 'number':
    case 'boolean':
      bad = `${typeOf} <> '${field.type}'`;
      break;
    case 'integer':
      bad = `CASE WHEN ${typeOf} = 'number' THEN ${text}::numeric % 1 <> 0 ELSE true END`;
      break;
    case 'date':
      bad = `CASE WHEN ${typeOf} = 'string' THEN ${text} !~ ${isoDate} ELSE true END`;
      break;
    case 'reference':
      bad = `CASE WHEN ${typeOf} = 'string' THEN ${text} !~ ${uuid} ELSE true END`;
      break;
    case 'array':
      bad = field.items
        ? `CASE WHEN ${typeOf} = 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(data->${key}) AS t(e) WHERE ${itemCheck(field.items)}) ELSE true END`
        : `${typeOf} <> 'array'`;
      break;
  }
  return `data ? ${key} AND ${typeOf} <> 'null' AND (${bad})`;
}
