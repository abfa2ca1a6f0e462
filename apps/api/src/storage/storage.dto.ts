import { z } from 'zod';
import { BUCKET_NAME, fileKeyProblem, MAX_FILE_KEY_BYTES } from '#libs/storage';
import { bucketRulesSchema } from './storage.rules.js';

export const bucketNameSchema = z
  .string()
  .regex(BUCKET_NAME, 'must be 3-63 lower-case letters, digits or -, starting and ending with a letter or digit');

export const fileIdSchema = z.uuid({ message: 'must be a UUID' });

/** A client-chosen key of a file inside its bucket (see fileKeyProblem for the grammar). */
export const fileKeySchema = z.string().superRefine((key, ctx) => {
  const problem = fileKeyProblem(key);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const MIME_PATTERN = /^(\*\/\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126}))$/;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** `*`, `user:<uuid>` or `role:<name>`, as in document ACLs. */
const aclEntry = z
  .string()
  .regex(/^(\*|user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|role:[A-Za-z0-9_-]{1,64})$/, 'must be *, user:<id> or role:<name>');

export const aclSchema = z.strictObject({
  read: z.array(aclEntry).max(100).default([]),
  write: z.array(aclEntry).max(100).default([]),
});
export type Acl = z.infer<typeof aclSchema>;

export const createBucketBody = z.strictObject({
  name: bucketNameSchema,
  public: z.boolean().default(false),
  maxFileSize: z.number().int().min(1).nullable().default(null).describe('bytes; null = the platform limit'),
  allowedMimeTypes: z
    .array(z.string().toLowerCase().regex(MIME_PATTERN, 'must be a media type like image/png, image/* or */*'))
    .max(100)
    .default([])
    .describe('empty = any type'),
  rules: bucketRulesSchema.optional(),
});
export type CreateBucketBody = z.infer<typeof createBucketBody>;

/** PATCH /storage/buckets/:bucket: the bucket's rules (null: none). */
export const updateBucketBody = z.strictObject({
  rules: bucketRulesSchema.nullable(),
});
export type UpdateBucketBody = z.infer<typeof updateBucketBody>;

/** PATCH /storage/files/:id: a new acl and/or key (metadata only: the bytes stay where they are). */
export const updateFileBody = z
  .strictObject({
    acl: aclSchema.optional(),
    key: fileKeySchema.optional(),
  })
  .refine((b) => b.acl !== undefined || b.key !== undefined, 'send acl, key or both');
export type UpdateFileBody = z.infer<typeof updateFileBody>;

export const listFilesQuery = z.strictObject({
  prefix: z
    .string()
    .max(MAX_FILE_KEY_BYTES)
    .refine((p) => !/\p{Cc}|\p{Cf}/u.test(p), 'must not contain control characters')
    .default(''),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional().describe('nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed)'),
});
export type ListFilesQuery = z.infer<typeof listFilesQuery>;

export const contentQuery = z.strictObject({
  download: z.enum(['true', 'false', '1', '0']).optional().describe('true: always served as an attachment'),
});

export const uploadUrlBody = z.strictObject({
  key: fileKeySchema.optional().describe('defaults to the new file id'),
  size: z.number().int().min(0).describe('exact size in bytes of the object that will be PUT'),
  contentType: z.string().toLowerCase().regex(MIME_TYPE, 'must be a media type like image/png'),
  acl: aclSchema.optional(),
});
export type UploadUrlBody = z.infer<typeof uploadUrlBody>;

export const signedQuery = z.strictObject({
  token: z.string().regex(/^[A-Za-z0-9_-]{1,4000}\.[A-Za-z0-9_-]{43}$/, 'must be a signed token'),
});

export const bucketView = z.object({
  id: z.uuid(),
  name: z.string(),
  public: z.boolean(),
  maxFileSize: z.number().int().nullable(),
  allowedMimeTypes: z.array(z.string()),
  rules: z.record(z.string(), z.unknown()).nullable().describe('create / update / delete rules (docs/storage.md), null when none'),
  createdAt: z.iso.datetime(),
}).meta({ id: 'Bucket' });
export type BucketView = z.infer<typeof bucketView>;

export const fileView = z.object({
  id: z.uuid(),
  bucket: z.string(),
  key: z.string(),
  size: z.number().int(),
  contentType: z.string(),
  ownerId: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
  status: z.enum(['pending', 'ready']),
  checksum: z.string().nullable().describe('sha256 (hex) of the bytes; null while pending'),
  acl: aclSchema.optional().describe('only shown to callers who may change the file'),
}).meta({ id: 'File' });
export type FileView = z.infer<typeof fileView>;

export const bucketList = z.object({ items: z.array(bucketView), nextCursor: z.string().nullable() }).meta({ id: 'BucketList' });
export const fileList = z.object({ items: z.array(fileView), nextCursor: z.string().nullable() }).meta({ id: 'FileList' });
export type FileList = z.infer<typeof fileList>;

export const uploadUrlResult = z.object({
  file: fileView,
  url: z.string().describe('PUT the bytes here'),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()).describe('headers to send with the PUT'),
  expiresAt: z.iso.datetime(),
}).meta({ id: 'UploadUrl' });
export type UploadUrlResult = z.infer<typeof uploadUrlResult>;

export const downloadUrlResult = z.object({ url: z.string(), expiresAt: z.iso.datetime() }).meta({ id: 'DownloadUrl' });
export type DownloadUrlResult = z.infer<typeof downloadUrlResult>;
