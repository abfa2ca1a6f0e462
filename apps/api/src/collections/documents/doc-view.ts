import type { FeedRow } from '../../realtime/change-feed.js';
import type { CollectionDef } from '../definition.js';
import type { DocAccess } from '../permissions.js';
import type { DocRow } from './documents.repository.js';

// A stored row (DocRow) in its other shapes: the client's view (`Doc`), what the permission
// checks read (`DocAccess`), and what the realtime change feed carries (`FeedRow`).

/** A document as clients see it: its fields, flat, beside the system fields. */
export type Doc = Record<string, unknown> & { id: string; version: number };

/** The client's view of a row, without its timestamps (declared fields only: values of removed fields stay stored, hidden). */
export function docBody(def: Pick<CollectionDef, 'fields'>, row: Omit<DocRow, 'created_at' | 'updated_at'>): Record<string, unknown> {
  const doc: Record<string, unknown> = { id: row.id };
  for (const field of def.fields) {
    if (Object.hasOwn(row.data, field.name)) doc[field.name] = row.data[field.name];
  }
  doc.ownerId = row.owner_id;
  doc.acl = row.acl;
  doc.version = row.version;
  return doc;
}

/** The client's view of a stored row. */
export function toDoc(def: Pick<CollectionDef, 'fields'>, row: DocRow): Doc {
  const doc = docBody(def, row);
  doc.createdAt = row.created_at.toISOString();
  doc.updatedAt = row.updated_at.toISOString();
  return doc as Doc; // docBody always sets id and version
}

/** What the permission checks read of a stored row. */
export function accessOf(row: DocRow): DocAccess {
  return { id: row.id, ownerId: row.owner_id, acl: row.acl, data: row.data, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** What the permission checks read of a document in its client view (a change event's `before`/`after`). */
export function accessOfDoc(def: Pick<CollectionDef, 'fields'>, doc: Record<string, unknown>): DocAccess {
  const data = Object.fromEntries(def.fields.filter((f) => Object.hasOwn(doc, f.name)).map((f) => [f.name, doc[f.name]]));
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { id: text(doc.id), ownerId: text(doc.ownerId) ?? null, acl: (doc.acl ?? null), data, createdAt: text(doc.createdAt), updatedAt: text(doc.updatedAt) };
}

/** A stored row as the change feed carries it. */
export function toFeedRow(row: DocRow): FeedRow {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

/** A row read back from the feed, in the repository's shape. */
export function fromFeedRow(row: FeedRow): DocRow {
  return { ...row, created_at: new Date(row.created_at), updated_at: new Date(row.updated_at) };
}
