import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import {
  detectContentType,
  discard,
  fileKeyProblem,
  fileNameOf,
  InvalidObjectKeyError,
  isSafeInlineType,
  measure,
  mimeTypeAllowed,
  ObjectNotFoundError,
  ObjectTooLargeError,
  peekHead,
  type SignedUrlClaims,
  SNIFF_BYTES,
  STORAGE_DRIVER,
  type StorageDriver,
  URL_SIGNER,
  type UrlSigner,
} from '#libs/storage';
import { actorOf, type Caller, isAdmin } from '../auth/caller.js';
import { bucketTopic, ChangeFeed, type FileFeedRow } from '../realtime/change-feed.js';
import { AppException } from '../common/app-exception.js';
import { contentDisposition, decideRange, etagMatches, notModifiedSince } from './http-range.js';
import { multipartError, type UploadPart } from './multipart.js';
import {
  type Acl,
  aclSchema,
  type BucketView,
  type CreateBucketBody,
  type DownloadUrlResult,
  type FileList,
  type FileView,
  fileKeySchema,
  type ListFilesQuery,
  type UpdateBucketBody,
  type UpdateFileBody,
  type UploadUrlBody,
  type UploadUrlResult,
} from './storage.dto.js';
import { Params } from '../collections/sql.js';
import { type BucketRuleName, bucketRuleAllows, bucketRuleIssues, type BucketRules, readRuleSql, type RuleFile } from './storage.rules.js';
import { canRead, canWrite, type FileAccess, listFilterFor } from './storage.policy.js';
import {
  type BucketRow,
  type FileRow,
  type FileWithBucket,
  keyScopeOf,
  type NewFile,
  type StorageEvent,
  StorageRepository,
} from './storage.repository.js';

/** A response body to stream, with its status and headers (content, signed GET). */
export interface Download {
  status: 200 | 206 | 304 | 416;
  headers: Record<string, string>;
  body?: Readable;
}

export interface ConditionalHeaders {
  range?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifRange?: string;
}

const notFound = () => new AppException(404, 'FILE_NOT_FOUND', 'The file does not exist');
const bucketNotFound = () => new AppException(404, 'BUCKET_NOT_FOUND', 'The bucket does not exist');
/** The form fields only an import may send (StorageService.importFile). */
const importedFileField = z.strictObject({
  id: z.uuid({ message: 'must be a UUID' }),
  ownerId: z
    .union([z.literal(''), z.uuid({ message: 'must be a UUID or empty' })])
    .transform((v) => (v === '' ? null : v)),
  createdAt: z.iso.datetime({ message: 'must be an ISO date-time' }).transform((v) => new Date(v)),
});
type ImportedFile = Partial<z.output<typeof importedFileField>>;
const IMPORTED_FIELDS: ReadonlySet<string> = new Set(Object.keys(importedFileField.shape));

const keyTaken = () => new AppException(409, 'FILE_EXISTS', 'A file with this key already exists in the bucket');
const badSignature = () => new AppException(403, 'INVALID_SIGNATURE', 'The signed URL is invalid or has expired');

/** Where a pending presigned upload is PUT; `complete` moves it to the file's object key. */
export function stagingKeyOf(objectKey: string): string {
  return `${objectKey}.upload`;
}

function toBucketView(row: BucketRow): BucketView {
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
function rulesOf(bucket: { rules: unknown }): BucketRules | null {
  return (bucket.rules ?? null);
}

function ruleFile(file: Pick<FileRow, 'bucket' | 'key' | 'contentType' | 'ownerId'> & { size: bigint | number }): RuleFile {
  return { bucket: file.bucket, key: file.key, size: Number(file.size), contentType: file.contentType, ownerId: file.ownerId };
}

/** A bucket rule said no: 401 for anonymous callers, else 403. */
function ruleDenied(caller: Caller, op: BucketRuleName): AppException {
  return caller.kind === 'anonymous'
    ? new AppException(401, 'UNAUTHENTICATED', 'Sign in or send a service key')
    : new AppException(403, 'FORBIDDEN', `The bucket's ${op} rule does not allow this`);
}

/** What a file's view and access are made of (a stored row, or one from the realtime feed). */
type ViewRow = Pick<FileRow, 'id' | 'bucket' | 'key' | 'size' | 'contentType' | 'ownerId' | 'createdAt' | 'status' | 'checksum' | 'aclRead' | 'aclWrite'>;

function toFileFeedRow(row: ViewRow): FileFeedRow {
  const { id, bucket, key, contentType, ownerId, checksum, aclRead, aclWrite } = row;
  return { id, bucket, key, size: Number(row.size), contentType, ownerId, createdAt: row.createdAt.toISOString(), checksum, aclRead, aclWrite };
}

function fromFileFeedRow(row: FileFeedRow): ViewRow {
  return { ...row, size: BigInt(row.size), createdAt: new Date(row.createdAt), status: 'ready' };
}

function accessOf(row: Pick<FileRow, 'ownerId' | 'aclRead' | 'aclWrite'>, bucketPublic: boolean): FileAccess {
  return { ownerId: row.ownerId, aclRead: row.aclRead, aclWrite: row.aclWrite, bucketPublic };
}

type EventFile = Pick<FileRow, 'id' | 'bucket' | 'key' | 'contentType' | 'ownerId'> & { size: bigint | number };

function eventOf(row: EventFile, operation: 'upload' | 'delete', caller: Caller): StorageEvent {
  return {
    bucket: row.bucket,
    operation,
    file: {
      id: row.id,
      bucket: row.bucket,
      key: row.key,
      size: Number(row.size),
      contentType: row.contentType,
      ownerId: row.ownerId,
    },
    actor: actorOf(caller),
  };
}

/** The position a list cursor holds: `key\nid` (or, from older pages, the key alone). */
function decodeListCursor(cursor: string): { key: string; id?: string } {
  const [key = '', id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('\n');
  if (fileKeyProblem(key) !== undefined || rest.length > 0 || (id !== undefined && !/^[0-9a-f-]{36}$/.test(id))) {
    throw new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', [{ path: 'cursor', message: 'is not a cursor from a previous page' }]);
  }
  return id === undefined ? { key } : { key, id };
}

/** A key for a file uploaded without one: `<file id>/<file name reduced to the key grammar>`. */
function generatedKey(id: string, fileName: string | undefined): string {
  const name = (fileName ?? '')
    .normalize('NFC')
    .replace(/[^\p{L}\p{M}\p{N} !\-_.*'()+=@,&$;~]/gu, '_')
    .trim()
    .replace(/^\.+$/, '')
    .slice(0, 200);
  const key = name ? `${id}/${name}` : id;
  return fileKeyProblem(key) === undefined ? key : id;
}

/**
 * Buckets and files: metadata in Postgres (with the outbox event in the same transaction),
 * bytes in the StorageDriver, streamed both ways. Objects are stored under generated keys
 * (`<bucket>/<file id>`), never under a client-chosen path.
 */
@Injectable()
export class StorageService {
  private readonly logger = new Logger('StorageService');

  constructor(
    private readonly repo: StorageRepository,
    @Inject(STORAGE_DRIVER) private readonly driver: StorageDriver,
    @Inject(URL_SIGNER) private readonly signer: UrlSigner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly feed: ChangeFeed,
  ) {}

  // ---- buckets ----------------------------------------------------------------------------

  async createBucket(body: CreateBucketBody): Promise<BucketView> {
    this.checkRules(body.rules ?? null);
    if (body.maxFileSize !== null && body.maxFileSize > this.config.STORAGE_MAX_FILE_SIZE_BYTES) {
      throw new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', [
        { path: 'maxFileSize', message: `must be at most ${this.config.STORAGE_MAX_FILE_SIZE_BYTES} (the platform limit)` },
      ]);
    }
    const row = await this.repo.createBucket(body);
    if (!row) throw new AppException(409, 'BUCKET_EXISTS', 'A bucket with this name already exists');
    return toBucketView(row);
  }

  /** Replaces a bucket's rules (admin). */
  async updateBucket(name: string, body: UpdateBucketBody): Promise<BucketView> {
    this.checkRules(body.rules);
    const row = await this.repo.setBucketRules(name, body.rules);
    if (!row) throw bucketNotFound();
    return toBucketView(row);
  }

  private checkRules(rules: BucketRules | null): void {
    const issues = rules ? bucketRuleIssues(rules) : [];
    if (issues.length) throw new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', issues);
  }

  async listBuckets(): Promise<{ items: BucketView[]; nextCursor: null }> {
    return { items: (await this.repo.listBuckets()).map(toBucketView), nextCursor: null };
  }

  private async bucket(name: string): Promise<BucketRow> {
    const bucket = await this.repo.findBucket(name);
    if (!bucket) throw bucketNotFound();
    return bucket;
  }

  private limitOf(bucket: { maxFileSize: bigint | null }): number {
    const platform = this.config.STORAGE_MAX_FILE_SIZE_BYTES;
    return bucket.maxFileSize === null ? platform : Math.min(Number(bucket.maxFileSize), platform);
  }

  // ---- views and permissions --------------------------------------------------------------

  /**
   * What GET /storage/files/:id would show this caller of a file now, or null where it answers
   * 404 (storage.policy canRead, then the same view). Realtime checks every file event for
   * every subscriber through this one function.
   */
  viewAs(caller: Caller, file: FileFeedRow, bucketPublic: boolean): FileView | null {
    const row = fromFileFeedRow(file);
    return canRead(caller, accessOf(row, bucketPublic)) ? this.view(row, caller, bucketPublic) : null;
  }

  /** A bucket's name and visibility (404 BUCKET_NOT_FOUND): realtime checks subscriptions with it. */
  async requireBucket(name: string): Promise<{ name: string; public: boolean }> {
    const bucket = await this.bucket(name);
    return { name: bucket.name, public: bucket.public };
  }

  /** Tells realtime subscribers of the bucket (if any) that a file became ready or was deleted; after commit. */
  private published(op: 'create' | 'delete', row: ViewRow, bucketPublic: boolean): void {
    const topic = bucketTopic(row.bucket);
    if (this.feed.hasInterest(topic)) this.feed.publish(topic, { op, file: toFileFeedRow(row), bucketPublic });
  }

  private view(row: ViewRow, caller: Caller, bucketPublic: boolean): FileView {
    const view: FileView = {
      id: row.id,
      bucket: row.bucket,
      key: row.key,
      size: Number(row.size),
      contentType: row.contentType,
      ownerId: row.ownerId,
      createdAt: row.createdAt.toISOString(),
      status: row.status === 'ready' ? 'ready' : 'pending',
      checksum: row.checksum,
    };
    if (canWrite(caller, accessOf(row, bucketPublic))) view.acl = { read: row.aclRead, write: row.aclWrite };
    return view;
  }

  /**
   * The file if this caller may read it; otherwise FILE_NOT_FOUND, exactly as for a file
   * that does not exist. A pending upload is visible only to those who may complete it.
   */
  private async readable(caller: Caller, id: string): Promise<FileWithBucket> {
    const file = await this.repo.findFile(id);
    if (!file) throw notFound();
    const access = accessOf(file, file.bucketRef.public);
    const mayRead = () => canRead(caller, access) || bucketRuleAllows(caller, rulesOf(file.bucketRef), 'read', ruleFile(file));
    if (file.status !== 'ready' ? !canWrite(caller, access) : !mayRead()) throw notFound();
    return file;
  }

  /** Readable and ready (content and download URLs need the bytes). */
  private async readableReady(caller: Caller, id: string): Promise<FileWithBucket> {
    const file = await this.readable(caller, id);
    if (file.status !== 'ready') throw new AppException(409, 'FILE_NOT_READY', 'The upload of this file is not complete');
    return file;
  }

  private async writable(caller: Caller, id: string): Promise<FileWithBucket> {
    const file = await this.readable(caller, id);
    if (!canWrite(caller, accessOf(file, file.bucketRef.public))) {
      throw new AppException(403, 'FORBIDDEN', 'You may read this file but not change it');
    }
    return file;
  }

  async getFile(caller: Caller, id: string): Promise<FileView> {
    const file = await this.readable(caller, id);
    return this.view(file, caller, file.bucketRef.public);
  }

  async listFiles(caller: Caller, bucketName: string, query: ListFilesQuery): Promise<FileList> {
    const bucket = await this.bucket(bucketName);
    const after = query.cursor === undefined ? undefined : decodeListCursor(query.cursor);
    const filter = listFilterFor(caller, bucket.public);
    const base = { bucket: bucket.name, prefix: query.prefix, after, limit: query.limit + 1 };
    let rows = await this.repo.listFiles({ ...base, filter });
    const params = new Params();
    const granted = filter ? readRuleSql(caller, rulesOf(bucket), params) : false;
    if (granted !== false) {
      // Files the read rule grants beside those the ACL model shows: both pages are in (key, id)
      // order after the same cursor, so their merge, cut to the limit, is the exact page.
      const byRule = await this.repo.listFilesByRule({ ...base, rule: granted, params });
      const seen = new Set(rows.map((r) => r.id));
      rows = [...rows, ...byRule.filter((r) => !seen.has(r.id))]
        // UTF-8 byte order: the code point order of the database's C collation.
        .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, base.limit);
    }
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => this.view(row, caller, bucket.public)),
      nextCursor: rows.length > query.limit && last ? Buffer.from(`${last.key}\n${last.id}`, 'utf8').toString('base64url') : null,
    };
  }

  // ---- direct upload ----------------------------------------------------------------------

  /**
   * A multipart/form-data upload: optional `key` and `acl` (JSON) fields, then one `file`.
   * The file streams through a content sniffer (type from its leading bytes, checked against
   * the bucket before anything is stored), a byte counter that stops it at the bucket's
   * limit, and a sha256, into the driver. Only then is the metadata written, with its
   * `upload` event, in one transaction.
   */
  upload(caller: Caller, bucketName: string, parts: AsyncIterable<UploadPart>): Promise<FileView> {
    return this.receive(caller, bucketName, parts, undefined);
  }

  /**
   * An upload that moves a file from another installation (`selfbaas import`; service role
   * or admin): besides key and acl, the form may carry the file's `id`, `ownerId` (empty =
   * none) and `createdAt` there. No `upload` event is written: moving data runs no function.
   */
  importFile(caller: Caller, bucketName: string, parts: AsyncIterable<UploadPart>): Promise<FileView> {
    return this.receive(caller, bucketName, parts, {});
  }

  private async receive(caller: Caller, bucketName: string, parts: AsyncIterable<UploadPart>, imported: ImportedFile | undefined): Promise<FileView> {
    const bucket = await this.bucket(bucketName);
    let key: string | undefined;
    let acl: Acl = { read: [], write: [] };
    let stored: NewFile | undefined;
    try {
      for await (const part of parts) {
        if (part.type === 'field') {
          if (stored) throw new AppException(400, 'VALIDATION_FAILED', 'Send the key and acl fields before the file');
          [key, acl] = this.formField(part, key, acl, imported);
          continue;
        }
        if (part.fieldname !== 'file') {
          throw new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', [{ path: part.fieldname, message: 'the file field is named "file"' }]);
        }
        stored = await this.storeStream(caller, bucket, part, key, acl, imported);
      }
    } catch (err) {
      if (stored) await this.removeObject(stored.objectKey);
      throw this.uploadError(err);
    }
    if (!stored) throw new AppException(400, 'FILE_MISSING', 'The form has no file field');
    // Size and type are known only now: a refused file's bytes are removed again.
    if (!isAdmin(caller) && !bucketRuleAllows(caller, rulesOf(bucket), 'create', ruleFile(stored))) {
      await this.removeObject(stored.objectKey);
      throw ruleDenied(caller, 'create');
    }

    const result = await this.repo.insertFile(stored, imported ? null : eventOf(stored, 'upload', caller)).catch(async (err: unknown) => {
      await this.removeObject(stored.objectKey);
      throw err;
    });
    if (!result) {
      await this.removeObject(stored.objectKey);
      throw keyTaken();
    }
    await this.removeDropped(result.dropped);
    this.published('create', result.row, bucket.public);
    return this.view(result.row, caller, bucket.public);
  }

  private formField(part: Extract<UploadPart, { type: 'field' }>, key: string | undefined, acl: Acl, imported?: ImportedFile): [string | undefined, Acl] {
    const invalid = (message: string) =>
      new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', [{ path: part.fieldname, message }]);
    if (typeof part.value !== 'string' || part.valueTruncated) throw invalid('must be a short text field');
    if (part.fieldname === 'key') {
      const parsed = fileKeySchema.safeParse(part.value);
      if (!parsed.success) throw invalid(parsed.error.issues[0]?.message ?? 'is not a valid key');
      return [parsed.data, acl];
    }
    if (part.fieldname === 'acl') {
      let json: unknown;
      try {
        json = JSON.parse(part.value);
      } catch {
        throw invalid('must be JSON: {"read": [...], "write": [...]}');
      }
      const parsed = aclSchema.safeParse(json);
      if (!parsed.success) throw invalid(parsed.error.issues[0]?.message ?? 'is not a valid ACL');
      return [key, parsed.data];
    }
    if (imported && IMPORTED_FIELDS.has(part.fieldname)) {
      const parsed = importedFileField.shape[part.fieldname as keyof ImportedFile].safeParse(part.value);
      if (!parsed.success) throw invalid(parsed.error.issues[0]?.message ?? 'is not valid');
      Object.assign(imported, { [part.fieldname]: parsed.data });
      return [key, acl];
    }
    throw invalid(`unknown field (expected key, acl${imported ? ', id, ownerId, createdAt' : ''}, file)`);
  }

  private async storeStream(
    caller: Caller,
    bucket: BucketRow,
    part: Extract<UploadPart, { type: 'file' }>,
    requestedKey: string | undefined,
    acl: Acl,
    imported?: ImportedFile,
  ): Promise<NewFile> {
    const id = imported?.id ?? randomUUID();
    // Checked before the bytes are written: the object key is the id's, an existing file's bytes must stay.
    if (imported?.id && (await this.repo.idTaken(imported.id))) {
      // Read to the end (an admin's import), so the client gets the answer rather than a reset connection.
      part.file.resume();
      await finished(part.file).catch(() => undefined);
      throw new AppException(409, 'FILE_EXISTS', 'A file with this id already exists');
    }
    const key = requestedKey ?? generatedKey(id, part.filename);
    const ownerId = imported?.ownerId !== undefined ? imported.ownerId : caller.kind === 'user' ? caller.userId : null;
    const keyScope = keyScopeOf(bucket.public, ownerId, 'ready');
    // Checked before reading the body; the unique index decides in the end.
    if (await this.repo.keyTaken(bucket.name, keyScope, key)) throw keyTaken();

    const { head, body } = await peekHead(part.file, SNIFF_BYTES);
    const contentType = await detectContentType(head, part.mimetype);
    if (!mimeTypeAllowed(contentType, bucket.allowedMimeTypes)) {
      body.destroy();
      throw new AppException(415, 'MIME_TYPE_NOT_ALLOWED', `This bucket does not accept ${contentType} files`, [
        { path: 'file', message: `content detected as ${contentType}; allowed: ${bucket.allowedMimeTypes.join(', ')}` },
      ]);
    }
    const objectKey = `${bucket.name}/${id}`;
    const measured = measure(body, this.limitOf(bucket));
    await this.driver.put(objectKey, measured.stream, { contentType });
    const { bytes, sha256 } = measured.result();
    const row: NewFile = {
      id,
      bucket: bucket.name,
      key,
      keyScope,
      objectKey,
      size: bytes,
      contentType,
      checksum: sha256,
      ownerId,
      aclRead: acl.read,
      aclWrite: acl.write,
      status: 'ready',
      uploadExpiresAt: null,
      ...(imported?.createdAt ? { createdAt: imported.createdAt } : {}),
    };
    return row;
  }

  private uploadError(err: unknown): unknown {
    if (err instanceof ObjectTooLargeError) {
      return new AppException(413, 'FILE_TOO_LARGE', `The file is larger than this bucket allows (${err.limit} bytes)`);
    }
    if (err instanceof InvalidObjectKeyError) return new AppException(400, 'INVALID_KEY', 'The file key is not allowed');
    return multipartError(err) ?? err;
  }

  private async removeObject(objectKey: string): Promise<void> {
    await this.driver.delete(objectKey).catch((err: unknown) => {
      // The metadata is the source of truth; an orphaned object is only wasted space.
      this.logger.warn(`could not delete object ${objectKey}: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** The objects of expired pending uploads whose key a new file took. */
  private async removeDropped(objectKeys: string[]): Promise<void> {
    for (const objectKey of objectKeys) {
      await this.removeObject(objectKey);
      await this.removeObject(stagingKeyOf(objectKey));
    }
  }

  // ---- change -----------------------------------------------------------------------------

  /**
   * Changes a file's acl and/or key (its bytes stay where they are): whoever may write the file
   * (owner, admins, the service role, its write ACL), if the bucket's update rule allows the
   * file as it will be (`@data`). A key taken in the file's namespace is 409 FILE_EXISTS.
   */
  async updateFile(caller: Caller, id: string, body: UpdateFileBody): Promise<FileView> {
    const file = await this.writable(caller, id);
    const next = { ...ruleFile(file), key: body.key ?? file.key };
    if (!isAdmin(caller) && !bucketRuleAllows(caller, rulesOf(file.bucketRef), 'update', ruleFile(file), next)) throw ruleDenied(caller, 'update');
    if (body.key !== undefined && body.key !== file.key && (await this.repo.keyTaken(file.bucket, file.keyScope, body.key))) throw keyTaken();
    const row = await this.repo.updateFile(id, {
      ...(body.key !== undefined ? { key: body.key } : {}),
      ...(body.acl ? { aclRead: body.acl.read, aclWrite: body.acl.write } : {}),
    });
    if (!row) throw keyTaken();
    return this.view(row, caller, file.bucketRef.public);
  }

  // ---- delete -----------------------------------------------------------------------------

  /** Deletes the metadata (with a `delete` event for a ready file) in one transaction, then the bytes. */
  async deleteFile(caller: Caller, id: string): Promise<void> {
    const file = await this.writable(caller, id);
    if (!isAdmin(caller) && !bucketRuleAllows(caller, rulesOf(file.bucketRef), 'delete', ruleFile(file))) throw ruleDenied(caller, 'delete');
    const row = await this.repo.deleteFile(id, (deleted) => (deleted.status === 'ready' ? eventOf(deleted, 'delete', caller) : null));
    if (!row) throw notFound();
    if (row.status === 'ready') this.published('delete', row, file.bucketRef.public);
    await this.removeObject(row.objectKey);
    if (row.status !== 'ready') await this.removeObject(stagingKeyOf(row.objectKey));
  }

  // ---- download ---------------------------------------------------------------------------

  /** Inline only for types positively identified as safe to show (isSafeInlineType); everything else downloads. */
  private dispositionFor(file: FileRow, forceDownload: boolean): string {
    const kind = !forceDownload && isSafeInlineType(file.contentType) ? 'inline' : 'attachment';
    return contentDisposition(kind, fileNameOf(file.key));
  }

  /** The file's bytes (or one range of them) with headers that keep browsers from running them. */
  async openContent(caller: Caller, id: string, conditional: ConditionalHeaders, forceDownload: boolean): Promise<Download> {
    const file = await this.readableReady(caller, id);
    return this.serve(file.objectKey, Number(file.size), {
      'content-type': file.contentType,
      'content-disposition': this.dispositionFor(file, forceDownload),
      etag: `"${file.checksum}"`,
      'last-modified': file.updatedAt.toUTCString(),
      'cache-control': file.bucketRef.public ? 'public, max-age=60' : 'private, no-cache',
    }, conditional);
  }

  private async serve(objectKey: string, size: number, headers: Record<string, string>, conditional: ConditionalHeaders): Promise<Download> {
    const base = { ...headers, 'x-content-type-options': 'nosniff', 'accept-ranges': 'bytes' };
    const etag = headers.etag;
    if (etag && etagMatches(conditional.ifNoneMatch, etag)) return { status: 304, headers: base };
    // If-Modified-Since counts only without If-None-Match (RFC 9110, 13.1.3).
    if (conditional.ifNoneMatch === undefined && notModifiedSince(headers['last-modified'], conditional.ifModifiedSince)) {
      return { status: 304, headers: base };
    }
    // If-Range with another validator: the client's partial copy is stale, send everything.
    const rangeHeader = conditional.ifRange !== undefined && conditional.ifRange !== etag ? undefined : conditional.range;
    const range = decideRange(rangeHeader, size);
    if (range.kind === 'unsatisfiable') {
      return { status: 416, headers: { ...base, 'content-range': `bytes */${size}` } };
    }
    try {
      if (range.kind === 'partial') {
        const body = await this.driver.get(objectKey, { start: range.start, end: range.end });
        return {
          status: 206,
          headers: { ...base, 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': String(range.end - range.start + 1) },
          body,
        };
      }
      const body = await this.driver.get(objectKey);
      return { status: 200, headers: { ...base, 'content-length': String(size) }, body };
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw notFound();
      throw err;
    }
  }

  /** A short-lived URL to GET the file from, after the same check as a direct download. */
  async downloadUrl(caller: Caller, id: string, forceDownload: boolean): Promise<DownloadUrlResult> {
    const file = await this.readableReady(caller, id);
    const ttl = this.config.STORAGE_DOWNLOAD_URL_TTL_SECONDS;
    const url = await this.driver.presignGet(file.objectKey, {
      expiresInSeconds: ttl,
      contentType: file.contentType,
      contentDisposition: this.dispositionFor(file, forceDownload),
      etag: `"${file.checksum}"`,
    });
    return { url, expiresAt: new Date(Date.now() + ttl * 1000).toISOString() };
  }

  // ---- presigned upload -------------------------------------------------------------------

  /** A pending file record and a URL to PUT its bytes to (checked and made ready by `complete`). */
  async createUploadUrl(caller: Caller, bucketName: string, body: UploadUrlBody): Promise<UploadUrlResult> {
    const bucket = await this.bucket(bucketName);
    const limit = this.limitOf(bucket);
    if (body.size > limit) throw new AppException(413, 'FILE_TOO_LARGE', `The file is larger than this bucket allows (${limit} bytes)`);
    if (!mimeTypeAllowed(body.contentType, bucket.allowedMimeTypes)) {
      throw new AppException(415, 'MIME_TYPE_NOT_ALLOWED', `This bucket does not accept ${body.contentType} files`);
    }
    const id = randomUUID();
    const owner = caller.kind === 'user' ? caller.userId : null;
    const planned = { bucket: bucket.name, key: body.key ?? id, size: body.size, contentType: body.contentType, ownerId: owner };
    if (!isAdmin(caller) && !bucketRuleAllows(caller, rulesOf(bucket), 'create', planned)) throw ruleDenied(caller, 'create');
    const ttl = this.config.STORAGE_UPLOAD_URL_TTL_SECONDS;
    const expiresAt = new Date(Date.now() + ttl * 1000);
    const acl = body.acl ?? { read: [], write: [] };
    const objectKey = `${bucket.name}/${id}`;
    const ownerId = caller.kind === 'user' ? caller.userId : null;
    const result = await this.repo.insertFile(
      {
        id,
        bucket: bucket.name,
        key: body.key ?? id,
        // A pending upload reserves its key only in its owner's namespace (keyScopeOf).
        keyScope: keyScopeOf(bucket.public, ownerId, 'pending'),
        objectKey,
        size: body.size,
        contentType: body.contentType,
        checksum: null,
        ownerId,
        aclRead: acl.read,
        aclWrite: acl.write,
        status: 'pending',
        uploadExpiresAt: expiresAt,
      },
      null,
    );
    if (!result) throw keyTaken();
    await this.removeDropped(result.dropped);
    const url = await this.driver.presignPut(stagingKeyOf(objectKey), { expiresInSeconds: ttl, maxBytes: body.size });
    return {
      file: this.view(result.row, caller, bucket.public),
      url,
      method: 'PUT',
      headers: { 'content-type': body.contentType },
      expiresAt: expiresAt.toISOString(),
    };
  }

  /**
   * Finishes a presigned upload: moves the PUT object to the file's own key (which no URL
   * can write, so what is checked is what is served), checks it there (size as declared,
   * type from its leading bytes as declared, sha256 computed while reading), then marks the
   * file ready with its `upload` event. A failed check deletes the moved object; the file
   * stays pending and can be uploaded again while its URL is valid.
   */
  async complete(caller: Caller, id: string): Promise<FileView> {
    const file = await this.writable(caller, id);
    if (file.status === 'ready') return this.view(file, caller, file.bucketRef.public);
    const size = Number(file.size);
    const staged = await this.driver.stat(stagingKeyOf(file.objectKey));
    if (staged) {
      if (staged.size !== size) {
        throw new AppException(422, 'SIZE_MISMATCH', `The uploaded object has ${staged.size} bytes, not the declared ${size}`);
      }
      await this.driver.move(stagingKeyOf(file.objectKey), file.objectKey);
    } else if (!(await this.driver.stat(file.objectKey))) {
      throw new AppException(409, 'UPLOAD_MISSING', 'Nothing has been uploaded to the URL yet');
    }

    let checksum: string;
    try {
      checksum = await this.verifyObject(file.objectKey, size, file.contentType, file.bucketRef.allowedMimeTypes);
    } catch (err) {
      await this.removeObject(file.objectKey);
      throw err;
    }
    const keyScope = keyScopeOf(file.bucketRef.public, file.ownerId, 'ready');
    const ready = await this.repo.markReady(id, checksum, keyScope, eventOf(file, 'upload', caller));
    if (ready === 'key-taken') {
      // A ready file of the public bucket took the key meanwhile (one anyone can list).
      await this.removeObject(file.objectKey);
      throw keyTaken();
    }
    if (ready) {
      this.published('create', ready, file.bucketRef.public);
      return this.view(ready, caller, file.bucketRef.public);
    }
    // Completed concurrently, or deleted meanwhile.
    return this.getFile(caller, id);
  }

  /** Reads an object once: its leading bytes must be of `contentType`, its length `size`. Returns its sha256. */
  private async verifyObject(objectKey: string, size: number, contentType: string, allowed: string[]): Promise<string> {
    const { head, body } = await peekHead(await this.driver.get(objectKey), SNIFF_BYTES);
    const detected = await detectContentType(head, contentType);
    if (detected !== contentType || !mimeTypeAllowed(detected, allowed)) {
      body.destroy();
      throw new AppException(422, 'CONTENT_TYPE_MISMATCH', `The uploaded bytes are ${detected}, not the declared ${contentType}`);
    }
    const measured = measure(body, size);
    try {
      await discard(measured.stream);
    } catch (err) {
      if (err instanceof ObjectTooLargeError) throw new AppException(422, 'SIZE_MISMATCH', `The uploaded object is larger than the declared ${size} bytes`);
      throw err;
    }
    const { bytes, sha256 } = measured.result();
    if (bytes !== size) throw new AppException(422, 'SIZE_MISMATCH', `The uploaded object has ${bytes} bytes, not the declared ${size}`);
    return sha256;
  }

  // ---- signed URLs of the local driver ----------------------------------------------------

  private claims(token: string, method: 'GET' | 'PUT'): SignedUrlClaims {
    const claims = this.signer.verify(token);
    if (!claims || claims.method !== method) throw badSignature();
    return claims;
  }

  /** `PUT /v1/storage/signed?token=`: stores the body at the token's key, refusing more than its byte limit. */
  async putSigned(token: string, body: Readable, contentLength: number | undefined): Promise<{ etag: string }> {
    const claims = this.claims(token, 'PUT');
    const limit = claims.maxBytes ?? 0;
    if (contentLength !== undefined && contentLength > limit) {
      throw new AppException(413, 'FILE_TOO_LARGE', `The body is larger than the declared ${limit} bytes`);
    }
    const measured = measure(body, limit);
    try {
      await this.driver.put(claims.key, measured.stream, { contentType: 'application/octet-stream' });
    } catch (err) {
      throw this.uploadError(err);
    }
    return { etag: `"${measured.result().sha256}"` };
  }

  /** `GET /v1/storage/signed?token=`: the object at the token's key, with the headers fixed in the token. */
  async openSigned(token: string, conditional: ConditionalHeaders): Promise<Download> {
    const claims = this.claims(token, 'GET');
    const info = await this.driver.stat(claims.key);
    if (!info) throw notFound();
    return this.serve(claims.key, info.size, {
      'content-type': claims.contentType ?? 'application/octet-stream',
      'content-disposition': claims.contentDisposition ?? 'attachment',
      ...(claims.etag ? { etag: claims.etag } : {}),
      'cache-control': 'private, no-cache',
    }, conditional);
  }
}
