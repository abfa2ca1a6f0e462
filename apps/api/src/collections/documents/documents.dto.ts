import { z } from 'zod';
import { collectionName } from '../definition.js';
import { safeJsonObject } from '../../common/safe-json.js';
import { FILTER_LIMITS } from './filter.js';
import { MAX_CURSOR_CHARS } from '../../common/paging.js';

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;
export const MAX_BATCH_OPERATIONS = 100;

export const documentIdParam = z.uuid({ message: 'must be a UUID' });
export { collectionName as collectionNameParam };

/** A document body: the collection's fields (and `acl`); checked against the definition by the service. */
export const documentBody = safeJsonObject.describe('the document fields, optionally acl: { read?: [...], write?: [...] }, and when creating optionally id (a UUID the client chooses)');

const bool = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true');

export const readQuery = z.strictObject({
  fields: z.string().max(4096).optional().describe('comma-separated fields to return (id and version are always returned)'),
  expand: z.string().max(512).optional().describe('comma-separated reference fields to replace by the referenced document'),
});

export const listQuery = readQuery.extend({
  filter: z.string().max(FILTER_LIMITS.chars).optional().describe('JSON filter, e.g. {"age":{"$gte":18}}'),
  sort: z.string().max(512).optional().describe('comma-separated fields, - for descending; default createdAt'),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  cursor: z.string().max(MAX_CURSOR_CHARS).optional().describe('nextCursor of the previous page'),
  count: bool.describe('also return the total number of matching documents'),
});
export type ListQuery = z.infer<typeof listQuery>;
export type ReadQuery = z.infer<typeof readQuery>;

/** A document as the api answers it: the fields, flat, beside the system fields. */
export const documentView = z
  .object({
    id: z.uuid(),
    ownerId: z.uuid().nullable(),
    acl: z.object({ read: z.array(z.string()).optional(), write: z.array(z.string()).optional() }).nullable(),
    version: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Document', description: 'the system fields beside the fields of the collection, flat' });

/** A document as read with `?fields=`: only id and version are always present. */
export const projectedDocumentView = documentView
  .partial()
  .required({ id: true, version: true })
  .meta({ id: 'ProjectedDocument', description: 'a document read with ?fields=: the fields not asked for are absent (id and version are always present)' });

export const documentList = z
  .object({
    items: z.array(projectedDocumentView),
    nextCursor: z.string().nullable(),
    count: z.number().int().optional().describe('with ?count=true: how many documents match'),
  })
  .meta({ id: 'DocumentList' });

const version = z.number().int().min(1).optional().describe('the expected version (as If-Match)');
const target = { collection: collectionName, id: documentIdParam };

export const batchOperation = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('create'), collection: collectionName, data: documentBody }),
  z.strictObject({ op: z.literal('get'), ...target }),
  z.strictObject({ op: z.literal('replace'), ...target, data: documentBody, ifMatch: version }),
  z.strictObject({ op: z.literal('update'), ...target, data: documentBody, ifMatch: version }),
  z.strictObject({ op: z.literal('delete'), ...target, ifMatch: version }),
]);
export type BatchOperation = z.infer<typeof batchOperation>;

export const batchBody = z.strictObject({
  transaction: z.boolean().default(false).describe('true: all operations apply, or none'),
  operations: z.array(batchOperation).min(1).max(MAX_BATCH_OPERATIONS),
});
export type BatchBody = z.infer<typeof batchBody>;

export const batchResult = z.object({
  results: z.array(
    z.object({
      status: z.number().int(),
      document: documentView.optional(),
      error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()).optional() }).optional(),
    }),
  ),
}).meta({ id: 'BatchResult' });
