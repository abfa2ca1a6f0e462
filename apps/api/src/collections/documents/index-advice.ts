import { type CollectionDef, indexFields, SCALAR_TYPES } from '../definition.js';
import { isPlainObject } from '../../common/safe-json.js';
import type { SortKey } from './paging.js';

/** Fields whose own index every collection has (primary key, paging, owner rules). */
const BUILT_IN = new Set(['id', 'createdAt', 'ownerId']);
/** Operators a btree index on the field can serve. */
const BTREE_OPS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte', '$in']);
const TEXT_SCAN_OPS = new Set(['$contains', '$icontains', '$istartsWith', '$ieq']);

/**
 * Which parts of a list query no index can serve, as advice a developer can act on: a filter
 * on a field no index starts with, `$contains` on an array/json field without its GIN index,
 * substring and case-insensitive matches on text (a search index serves words), a sort on an
 * unindexed field. Derived from the definition alone (no query runs).
 */
export function indexAdvice(def: Pick<CollectionDef, 'fields' | 'indexes'>, filter: Record<string, unknown> | undefined, sort: SortKey[]): string[] {
  const leading = new Set<string>();
  const gin = new Set<string>();
  for (const entry of def.indexes) {
    if (!Array.isArray(entry) && (entry.search || entry.where)) continue;
    const [first] = indexFields(entry);
    const field = def.fields.find((f) => f.name === first);
    if (field && !SCALAR_TYPES.has(field.type)) gin.add(first!);
    else if (first) leading.add(first);
  }
  for (const f of def.fields) if (f.unique) leading.add(f.name);
  const indexed = (name: string) => BUILT_IN.has(name) || leading.has(name);

  const advice = new Set<string>();
  const visit = (node: unknown) => {
    if (!isPlainObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$and' || key === '$or') {
        if (Array.isArray(value)) value.forEach(visit);
        continue;
      }
      if (key === '$not') {
        visit(value);
        continue;
      }
      if (key.startsWith('$')) continue; // $search is served by the search index
      const name = key.split('.')[0]!;
      const field = def.fields.find((f) => f.name === name);
      const ops = isPlainObject(value) && Object.keys(value).every((k) => k.startsWith('$')) ? Object.keys(value) : ['$eq'];
      for (const op of ops) {
        if (field && !SCALAR_TYPES.has(field.type)) {
          if (op === '$contains' && !gin.has(name) && !key.includes('.')) advice.add(`"${name}" is matched with $contains but has no index: add ["${name}"] to indexes (a GIN index)`);
          else if (key.includes('.')) advice.add(`"${key}" is a path inside a json field, which no index serves: move it into its own field to index it`);
        } else if (TEXT_SCAN_OPS.has(op) || (op === '$startsWith' && !indexed(name))) {
          advice.add(`"${name}" is matched with ${op}, which reads every document: declare a search index over it and use $search for words`);
        } else if (BTREE_OPS.has(op) && !indexed(name)) {
          advice.add(`"${name}" is filtered on but no index starts with it: add ["${name}"] to indexes`);
        }
      }
    }
  };
  visit(filter);
  const first = sort[0];
  if (first && first.name !== '$rank' && !indexed(first.name)) advice.add(`the sort by "${first.name}" has no index: add ["${first.name}"] to indexes`);
  return [...advice];
}
