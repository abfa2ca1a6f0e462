import { AppException } from '../../common/app-exception.js';
import { type CollectionDef, isSystemField } from '../definition.js';
import type { Doc } from './doc-view.js';

/**
 * Projection (`fields=`): which fields of a document a read returns. Checked against the
 * definition with `expand=` (expansion.ts) before anything is read; a projection keeps the
 * expanded fields too, and always `id` and `version` (they address the document and its ETag).
 */

export const MAX_EXPAND = 5;
export const MAX_PROJECTION = 100;

export interface ReadOptions {
  fields?: string;
  expand?: string;
}

/** A read's `fields` and `expand`, checked: declared (or system) fields, reference fields to expand. */
export interface ReadShape {
  project?: string[];
  expand: string[];
}

function names(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function invalidFields(param: 'fields' | 'expand', message: string): AppException {
  return new AppException(400, 'INVALID_FIELDS', `The ${param} parameter is not valid: ${message}`, [{ path: param, message }]);
}

/** Validates `fields` and `expand` against the definition (400 INVALID_FIELDS). */
export function readShape(def: CollectionDef, options: ReadOptions): ReadShape {
  const declared = new Set(def.fields.map((f) => f.name));
  const project = names(options.fields);
  if (project) {
    if (project.length > MAX_PROJECTION) throw invalidFields('fields', `names more than ${MAX_PROJECTION} fields`);
    for (const name of project) {
      if (!declared.has(name) && !isSystemField(name)) throw invalidFields('fields', `"${name.slice(0, 64)}" is not a field of this collection`);
    }
  }
  const expand = names(options.expand) ?? [];
  if (expand.length > MAX_EXPAND) throw invalidFields('expand', `names more than ${MAX_EXPAND} fields`);
  for (const name of expand) {
    if (def.fields.find((f) => f.name === name)?.type !== 'reference') throw invalidFields('expand', `"${name.slice(0, 64)}" is not a reference field`);
  }
  return { project, expand: [...new Set(expand)] };
}

/** Keeps the projected fields of a document; id and version always stay. */
export function projectFields(doc: Doc, fields: string[]): Doc {
  const keep = new Set(['id', 'version', ...fields]);
  return Object.fromEntries(Object.entries(doc).filter(([k]) => keep.has(k))) as Doc;
}

/** The documents as the read's projection shows them (the expanded fields stay, to be expanded). */
export function projected(docs: Doc[], { project, expand }: ReadShape): Doc[] {
  return project ? docs.map((doc) => projectFields(doc, [...project, ...expand])) : docs;
}
