import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type pg from 'pg';
import { type DB, type Db, isUniqueViolation, KYSELY, PG_POOL, Prisma, PrismaService, withTransaction } from '#libs/database';
import { type EventPayloads, writeOutbox } from '#libs/events';
import type { Params } from '../collections/sql.js';
import { type BucketRules, FILE_ROW_SQL } from './storage.rules.js';

const FILE_WITH_BUCKET = {
  include: { bucketRef: { select: { public: true, allowedMimeTypes: true, maxFileSize: true, rules: true } } },
} as const;

export type BucketRow = Prisma.StorageBucketGetPayload<object>;
export type FileRow = Prisma.StorageFileGetPayload<object>;
export type FileWithBucket = Prisma.StorageFileGetPayload<typeof FILE_WITH_BUCKET>;

export interface NewFile {
  id: string;
  bucket: string;
  key: string;
  /** The key's namespace: keyScopeOf(). */
  keyScope: string;
  objectKey: string;
  size: number;
  contentType: string;
  checksum: string | null;
  ownerId: string | null;
  aclRead: string[];
  aclWrite: string[];
  status: 'pending' | 'ready';
  uploadExpiresAt: Date | null;
  /** Only for imported files (their time in the installation they came from); otherwise now. */
  createdAt?: Date;
}

export type StorageEvent = EventPayloads['storage.change'];

/**
 * The namespace a file's key is unique in: the bucket's shared one ('') for ready files of a
 * public bucket (anyone can list them anyway) and for the service role's files; the owner's
 * own one for everything else (private buckets, and pending uploads everywhere). So a key
 * conflict only ever involves a file the uploader may see: it reveals nothing about other
 * users' private files or uploads in progress (docs/security.md).
 */
export function keyScopeOf(bucketPublic: boolean, ownerId: string | null, status: 'pending' | 'ready'): string {
  if (ownerId === null || (bucketPublic && status === 'ready')) return '';
  return ownerId;
}

/** A `storage_files` row read with Kysely, in the shape Prisma gives (size as a bigint). */
function fileRowOf(row: Selectable<DB['storage_files']>): FileRow {
  return {
    id: row.id,
    bucket: row.bucket,
    key: row.key,
    keyScope: row.key_scope,
    objectKey: row.object_key,
    size: BigInt(row.size),
    contentType: row.content_type,
    checksum: row.checksum,
    ownerId: row.owner_id,
    aclRead: row.acl_read,
    aclWrite: row.acl_write,
    status: row.status,
    uploadExpiresAt: row.upload_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A list position: after the file with this key and id. */
export interface FilePosition {
  key: string;
  id: string;
}

/** Every query of the storage resource. Metadata changes and their outbox events share one transaction. */
@Injectable()
export class StorageRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(KYSELY) private readonly db: Db,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  /** The new bucket, or undefined when the name is taken. */
  async createBucket(data: {
    name: string;
    public: boolean;
    maxFileSize: number | null;
    allowedMimeTypes: string[];
    rules?: BucketRules;
  }): Promise<BucketRow | undefined> {
    try {
      return await this.prisma.storageBucket.create({
        data: {
          ...data,
          maxFileSize: data.maxFileSize === null ? null : BigInt(data.maxFileSize),
          rules: data.rules === undefined ? Prisma.DbNull : (data.rules as Prisma.InputJsonValue), // plain JSON (validated)
        },
      });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  listBuckets(): Promise<BucketRow[]> {
    return this.prisma.storageBucket.findMany({ orderBy: { name: 'asc' } });
  }

  /** Replaces a bucket's rules; undefined when there is no such bucket. */
  async setBucketRules(name: string, rules: BucketRules | null): Promise<BucketRow | undefined> {
    const rows = await this.prisma.storageBucket.updateManyAndReturn({
      where: { name },
      data: { rules: rules === null ? Prisma.DbNull : (rules as Prisma.InputJsonValue) },
    });
    return rows[0];
  }

  /** Changes a file's acl and/or key; undefined when the key is taken in its namespace. */
  async updateFile(id: string, data: { key?: string; aclRead?: string[]; aclWrite?: string[] }): Promise<FileRow | undefined> {
    try {
      return await this.prisma.storageFile.update({ where: { id }, data });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  findBucket(name: string): Promise<BucketRow | null> {
    return this.prisma.storageBucket.findUnique({ where: { name } });
  }

  findFile(id: string): Promise<FileWithBucket | null> {
    return this.prisma.storageFile.findUnique({ where: { id }, ...FILE_WITH_BUCKET });
  }

  /** Whether a file (in any bucket, any state) has this id. */
  async idTaken(id: string): Promise<boolean> {
    return (await this.prisma.storageFile.count({ where: { id } })) > 0;
  }

  /** Whether a key of the namespace is held by a ready file or by a pending upload whose URL is still valid. */
  async keyTaken(bucket: string, keyScope: string, key: string): Promise<boolean> {
    const row = await this.prisma.storageFile.findUnique({
      where: { bucket_keyScope_key: { bucket, keyScope, key } },
      select: { status: true, uploadExpiresAt: true },
    });
    return row !== null && !(row.status === 'pending' && row.uploadExpiresAt !== null && row.uploadExpiresAt <= new Date());
  }

  /**
   * The page of ready files under the prefix that the bucket's read rule grants (`rule`, a
   * predicate over FILE_ROW_SQL's `d` with its bound values), in the same order as listFiles.
   */
  async listFilesByRule(args: { bucket: string; prefix: string; after?: FilePosition; limit: number; rule: string; params: Params }): Promise<FileRow[]> {
    const { params } = args;
    const after = args.after
      ? ` AND (d.key > ${params.add(args.after.key, 'text')} OR (d.key = ${params.add(args.after.key, 'text')} AND d.id > ${params.add(args.after.id, 'uuid')}))`
      : '';
    // Hand-built SQL: the rule is a predicate compiled from the bucket's rules, bound through `params`.
    const { rows } = await this.pool.query<Selectable<DB['storage_files']>>(
      `SELECT d.* FROM ${FILE_ROW_SQL} WHERE d.bucket = ${params.add(args.bucket, 'text')} AND d.status = 'ready'
         AND starts_with(d.key, ${params.add(args.prefix, 'text')})${after} AND (${args.rule})
       ORDER BY d.key, d.id LIMIT ${params.add(args.limit, 'int')}`,
      params.values,
    );
    return rows.map(fileRowOf);
  }

  /**
   * Ready files of a bucket under a prefix, in (key, id) order, after the `after` position.
   * With a filter, only the caller's own files and those whose read or write ACL names them.
   */
  async listFiles(args: {
    bucket: string;
    prefix: string;
    after?: FilePosition;
    limit: number;
    filter: { userId?: string; entries: string[]; writeEntries: string[] } | null;
  }): Promise<FileRow[]> {
    const { bucket, prefix, after, limit, filter } = args;
    let query = this.db
      .selectFrom('storage_files')
      .selectAll()
      .where('bucket', '=', bucket)
      .where('status', '=', 'ready')
      // Wildcards escaped: `_` and `%` in a prefix are plain characters.
      .where('key', 'like', `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (filter) {
      query = query.where((eb) =>
        eb.or([
          ...(filter.userId ? [eb('owner_id', '=', filter.userId)] : []),
          eb('acl_read', '&&', eb.val(filter.entries)),
          ...(filter.writeEntries.length > 0 ? [eb('acl_write', '&&', eb.val(filter.writeEntries))] : []),
        ]),
      );
    }
    if (after) {
      query = query.where((eb) => eb.or([eb('key', '>', after.key), eb.and([eb('key', '=', after.key), eb('id', '>', after.id)])]));
    }
    // Two owners may hold the same key in a private bucket: id breaks the tie, so paging is total.
    const rows = await query.orderBy('key').orderBy('id').limit(limit).execute();
    return rows.map(fileRowOf);
  }

  /**
   * Inserts a file row (a finished upload with its `upload` event, or a pending one),
   * first dropping a pending upload of the same key whose URL has expired. Returns the
   * row and the object keys of what was dropped (for the caller to delete), or undefined
   * when the key is taken.
   */
  async insertFile(
    data: NewFile,
    event: StorageEvent | null,
  ): Promise<{ row: FileRow; dropped: string[] } | undefined> {
    try {
      return await withTransaction(this.pool, async (tx) => {
        const stale = await tx.db
          .deleteFrom('storage_files')
          .where('bucket', '=', data.bucket)
          .where('key_scope', '=', data.keyScope)
          .where('key', '=', data.key)
          .where('status', '=', 'pending')
          .where('upload_expires_at', '<=', new Date())
          .returning('object_key')
          .execute();
        const row = await tx.db
          .insertInto('storage_files')
          .values({
            id: data.id,
            bucket: data.bucket,
            key: data.key,
            key_scope: data.keyScope,
            object_key: data.objectKey,
            size: String(data.size),
            content_type: data.contentType,
            checksum: data.checksum,
            owner_id: data.ownerId,
            acl_read: data.aclRead,
            acl_write: data.aclWrite,
            status: data.status,
            upload_expires_at: data.uploadExpiresAt,
            ...(data.createdAt ? { created_at: data.createdAt } : {}),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (event) await writeOutbox(tx, 'storage.change', event);
        return { row: fileRowOf(row), dropped: stale.map((s) => s.object_key) };
      });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  /**
   * Marks a pending file ready (moving its key into `keyScope`) with its checksum and writes
   * its `upload` event; undefined if it was no longer pending, 'key-taken' when the key is
   * held in that namespace (a public bucket's file took it while this upload was pending).
   */
  async markReady(id: string, checksum: string, keyScope: string, event: StorageEvent): Promise<FileRow | undefined | 'key-taken'> {
    try {
      return await withTransaction(this.pool, async (tx) => {
        const row = await tx.db
          .updateTable('storage_files')
          .set({ status: 'ready', checksum, upload_expires_at: null, key_scope: keyScope, updated_at: new Date() })
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        await writeOutbox(tx, 'storage.change', event);
        return fileRowOf(row);
      });
    } catch (err) {
      if (isUniqueViolation(err)) return 'key-taken';
      throw err;
    }
  }

  /**
   * Deletes a file row and, in the same transaction, the event `eventFor` builds from the
   * deleted row (null: no event, e.g. for a pending upload). Undefined when it was already gone.
   */
  async deleteFile(id: string, eventFor: (row: FileRow) => StorageEvent | null): Promise<FileRow | undefined> {
    return withTransaction(this.pool, async (tx) => {
      const deleted = await tx.db.deleteFrom('storage_files').where('id', '=', id).returningAll().executeTakeFirst();
      if (!deleted) return undefined;
      const row = fileRowOf(deleted);
      const event = eventFor(row);
      if (event) await writeOutbox(tx, 'storage.change', event);
      return row;
    });
  }
}
