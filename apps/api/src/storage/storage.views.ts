import { InvalidObjectKeyError, ObjectTooLargeError, type SignedUrlClaims, type UrlSigner } from '#libs/storage';
import { type Caller, actorOf } from '../auth/caller.js';
import { AppException, conflict, notFound } from '../common/app-exception.js';
import type { FileFeedRow } from '../realtime/change-feed.js';
import type { BucketView } from './storage.dto.js';
import { multipartError } from './multipart.js';
import type { FileAccess } from './storage.policy.js';
import type { BucketRow, FileRow, StorageEvent } from './storage.repository.js';
import type { BucketRuleName, BucketRules, RuleFile } from './storage.rules.js';

/** The pure pieces every storage flow shares: views, rule inputs, events and the common errors. */

export const fileNotFound = () => notFound('FILE_NOT_FOUND', 'The file does not exist');
export const bucketNotFound = () => notFound('BUCKET_NOT_FOUND', 'The bucket does not exist');
export const keyTaken = () => conflict('FILE_EXISTS', 'A file with this key already exists in the bucket');
export const fileTooLarge = (limit: number) => new AppException(413, 'FILE_TOO_LARGE', `The file is larger than this bucket allows (${limit} bytes)`);

/** Where a pending presigned upload is PUT; `complete` moves it to the file's object key. */
export function stagingKeyOf(objectKey: string): string {
  return `${objectKey}.upload`;
}

export function toBucketView(row: BucketRow): BucketView {
  return {
    id: row.id,
    name: row.name,
    public: row.public,
    maxFileSize: row.maxFileSize === null ? null : Number(row.maxFileSize),
    allowedMimeTypes: row.allowedMimeTypes,
    rules: rulesOf(row),
    createdAt: row.createdAt.toISOString(),
  };
}

/** A bucket's stored rules (written only from validated bodies). */
export function rulesOf(bucket: { rules: unknown }): BucketRules | null {
  return (bucket.rules ?? null);
}

export function ruleFile(file: Pick<FileRow, 'bucket' | 'key' | 'contentType' | 'ownerId'> & { size: bigint | number }): RuleFile {
  return { bucket: file.bucket, key: file.key, size: Number(file.size), contentType: file.contentType, ownerId: file.ownerId };
}

/** A bucket rule said no: 401 for anonymous callers, else 403. */
export function ruleDenied(caller: Caller, op: BucketRuleName): AppException {
  return caller.kind === 'anonymous'
    ? new AppException(401, 'UNAUTHENTICATED', 'Sign in or send a service key')
    : new AppException(403, 'FORBIDDEN', `The bucket's ${op} rule does not allow this`);
}

/** What a file's view and access are made of (a stored row, or one from the realtime feed). */
export type ViewRow = Pick<FileRow, 'id' | 'bucket' | 'key' | 'size' | 'contentType' | 'ownerId' | 'createdAt' | 'status' | 'checksum' | 'aclRead' | 'aclWrite'>;

export function toFileFeedRow(row: ViewRow): FileFeedRow {
  const { id, bucket, key, contentType, ownerId, checksum, aclRead, aclWrite } = row;
  return { id, bucket, key, size: Number(row.size), contentType, ownerId, createdAt: row.createdAt.toISOString(), checksum, aclRead, aclWrite };
}

export function fromFileFeedRow(row: FileFeedRow): ViewRow {
  return { ...row, size: BigInt(row.size), createdAt: new Date(row.createdAt), status: 'ready' };
}

export function accessOf(row: Pick<FileRow, 'ownerId' | 'aclRead' | 'aclWrite'>, bucketPublic: boolean): FileAccess {
  return { ownerId: row.ownerId, aclRead: row.aclRead, aclWrite: row.aclWrite, bucketPublic };
}

type EventFile = Pick<FileRow, 'id' | 'bucket' | 'key' | 'contentType' | 'ownerId'> & { size: bigint | number };

/** The fields every answer and event about a file carries. */
export function fileBasics(row: EventFile): StorageEvent['file'] {
  return { id: row.id, bucket: row.bucket, key: row.key, size: Number(row.size), contentType: row.contentType, ownerId: row.ownerId };
}

export function eventOf(row: EventFile, operation: 'upload' | 'delete', caller: Caller): StorageEvent {
  return { bucket: row.bucket, operation, file: fileBasics(row), actor: actorOf(caller) };
}

/** The answer for an error while bytes stream in (direct upload, signed PUT). */
export function uploadError(err: unknown): unknown {
  if (err instanceof ObjectTooLargeError) return fileTooLarge(err.limit);
  if (err instanceof InvalidObjectKeyError) return new AppException(400, 'INVALID_KEY', 'The file key is not allowed');
  return multipartError(err) ?? err;
}

/** The claims of a signed URL of the local driver for `method` (403 INVALID_SIGNATURE otherwise). */
export function signedClaims(signer: UrlSigner, token: string, method: 'GET' | 'PUT'): SignedUrlClaims {
  const claims = signer.verify(token);
  if (!claims || claims.method !== method) throw new AppException(403, 'INVALID_SIGNATURE', 'The signed URL is invalid or has expired');
  return claims;
}
