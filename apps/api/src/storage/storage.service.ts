import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { fileKeyProblem, STORAGE_DRIVER, type StorageDriver } from '#libs/storage';
import { type Caller, isAdmin } from '../auth/caller.js';
import { Params } from '../collections/sql.js';
import { AppException, forbidden } from '../common/app-exception.js';
import { decodeCursor, pageOf } from '../common/paging.js';
import { bucketTopic, ChangeFeed, type FileFeedRow } from '../realtime/change-feed.js';
import type { FileList, FileView, ListFilesQuery, UpdateFileBody } from './storage.dto.js';
import { canRead, canWrite, listFilterFor } from './storage.policy.js';
import { type BucketRow, type FileWithBucket, StorageRepository } from './storage.repository.js';
import { bucketRuleAllows, readRuleSql } from './storage.rules.js';
import {
  accessOf,
  bucketNotFound,
  eventOf,
  fileNotFound,
  fromFileFeedRow,
  keyTaken,
  ruleDenied,
  ruleFile,
  rulesOf,
  stagingKeyOf,
  toFileFeedRow,
  type ViewRow,
  fileBasics,
} from './storage.views.js';

/** The position a list cursor holds: the last file's key and id. */
function listPosition(value: unknown): { key: string; id: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { k, i } = value as Record<string, unknown>;
  if (typeof k !== 'string' || typeof i !== 'string' || fileKeyProblem(k) !== undefined || !/^[0-9a-f-]{36}$/.test(i)) return undefined;
  return { key: k, id: i };
}

/** UTF-8 byte order of keys (the code point order of the database's C collation), then id. */
function byKeyThenId(a: { key: string; id: string }, b: { key: string; id: string }): number {
  return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Files: who may see and change them, their views, and the metadata operations (get, list,
 * change, delete). The flows that move bytes build on it: direct uploads (UploadService),
 * presigned uploads (PresignedUploadService), downloads (DownloadService); buckets are
 * BucketsService. Metadata lives in Postgres (with the outbox event in the same
 * transaction), bytes in the StorageDriver under generated keys (`<bucket>/<file id>`),
 * never under a client-chosen path.
 */
@Injectable()
export class StorageService {
  private readonly logger = new Logger('StorageService');

  constructor(
    private readonly repo: StorageRepository,
    @Inject(STORAGE_DRIVER) private readonly driver: StorageDriver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly feed: ChangeFeed,
  ) {}

  async bucket(name: string): Promise<BucketRow> {
    const bucket = await this.repo.findBucket(name);
    if (!bucket) throw bucketNotFound();
    return bucket;
  }

  /** The byte limit of a bucket's files: its own, within the platform's. */
  limitOf(bucket: { maxFileSize: bigint | null }): number {
    const platform = this.config.STORAGE_MAX_FILE_SIZE_BYTES;
    return bucket.maxFileSize === null ? platform : Math.min(Number(bucket.maxFileSize), platform);
  }

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
  published(op: 'create' | 'delete', row: ViewRow, bucketPublic: boolean): void {
    const topic = bucketTopic(row.bucket);
    if (this.feed.hasInterest(topic)) this.feed.publish(topic, { op, file: toFileFeedRow(row), bucketPublic });
  }

  view(row: ViewRow, caller: Caller, bucketPublic: boolean): FileView {
    const view: FileView = {
      ...fileBasics(row),
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
  async readable(caller: Caller, id: string): Promise<FileWithBucket> {
    const file = await this.repo.findFile(id);
    if (!file) throw fileNotFound();
    const access = accessOf(file, file.bucketRef.public);
    const mayRead = () => canRead(caller, access) || bucketRuleAllows(caller, rulesOf(file.bucketRef), 'read', ruleFile(file));
    if (file.status !== 'ready' ? !canWrite(caller, access) : !mayRead()) throw fileNotFound();
    return file;
  }

  /** Readable and ready (content and download URLs need the bytes). */
  async readableReady(caller: Caller, id: string): Promise<FileWithBucket> {
    const file = await this.readable(caller, id);
    if (file.status !== 'ready') throw new AppException(409, 'FILE_NOT_READY', 'The upload of this file is not complete');
    return file;
  }

  async writable(caller: Caller, id: string): Promise<FileWithBucket> {
    const file = await this.readable(caller, id);
    if (!canWrite(caller, accessOf(file, file.bucketRef.public))) throw forbidden('You may read this file but not change it');
    return file;
  }

  async getFile(caller: Caller, id: string): Promise<FileView> {
    const file = await this.readable(caller, id);
    return this.view(file, caller, file.bucketRef.public);
  }

  async listFiles(caller: Caller, bucketName: string, query: ListFilesQuery): Promise<FileList> {
    const bucket = await this.bucket(bucketName);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, listPosition);
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
      rows = [...rows, ...byRule.filter((r) => !seen.has(r.id))].sort(byKeyThenId).slice(0, base.limit);
    }
    const page = pageOf(rows, query.limit, (last) => ({ k: last.key, i: last.id }));
    return { items: page.items.map((row) => this.view(row, caller, bucket.public)), nextCursor: page.nextCursor };
  }

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

  /** Deletes the metadata (with a `delete` event for a ready file) in one transaction, then the bytes. */
  async deleteFile(caller: Caller, id: string): Promise<void> {
    const file = await this.writable(caller, id);
    if (!isAdmin(caller) && !bucketRuleAllows(caller, rulesOf(file.bucketRef), 'delete', ruleFile(file))) throw ruleDenied(caller, 'delete');
    const row = await this.repo.deleteFile(id, (deleted) => (deleted.status === 'ready' ? eventOf(deleted, 'delete', caller) : null));
    if (!row) throw fileNotFound();
    if (row.status === 'ready') this.published('delete', row, file.bucketRef.public);
    await this.removeObject(row.objectKey);
    if (row.status !== 'ready') await this.removeObject(stagingKeyOf(row.objectKey));
  }

  async removeObject(objectKey: string): Promise<void> {
    await this.driver.delete(objectKey).catch((err: unknown) => {
      // The metadata is the source of truth; an orphaned object is only wasted space.
      this.logger.warn(`could not delete object ${objectKey}: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** The objects of expired pending uploads whose key a new file took. */
  async removeDropped(objectKeys: string[]): Promise<void> {
    for (const objectKey of objectKeys) {
      await this.removeObject(objectKey);
      await this.removeObject(stagingKeyOf(objectKey));
    }
  }
}
