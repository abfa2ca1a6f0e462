import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '#libs/database';
import { type EventPayloads, writeOutbox } from '#libs/events';

const FILE_WITH_BUCKET = {
  include: { bucketRef: { select: { public: true, allowedMimeTypes: true, maxFileSize: true } } },
} as const;

export type BucketRow = Prisma.StorageBucketGetPayload<object>;
export type FileRow = Prisma.StorageFileGetPayload<object>;
export type FileWithBucket = Prisma.StorageFileGetPayload<typeof FILE_WITH_BUCKET>;

export interface NewFile {
  id: string;
  bucket: string;
  key: string;
  objectKey: string;
  size: number;
  contentType: string;
  checksum: string | null;
  ownerId: string | null;
  aclRead: string[];
  aclWrite: string[];
  status: 'pending' | 'ready';
  uploadExpiresAt: Date | null;
}

export type StorageEvent = EventPayloads['storage.change'];

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

/** Every query of the storage resource. Metadata changes and their outbox events share one transaction. */
@Injectable()
export class StorageRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The new bucket, or undefined when the name is taken. */
  async createBucket(data: {
    name: string;
    public: boolean;
    maxFileSize: number | null;
    allowedMimeTypes: string[];
  }): Promise<BucketRow | undefined> {
    try {
      return await this.prisma.storageBucket.create({
        data: { ...data, maxFileSize: data.maxFileSize === null ? null : BigInt(data.maxFileSize) },
      });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  listBuckets(): Promise<BucketRow[]> {
    return this.prisma.storageBucket.findMany({ orderBy: { name: 'asc' } });
  }

  findBucket(name: string): Promise<BucketRow | null> {
    return this.prisma.storageBucket.findUnique({ where: { name } });
  }

  findFile(id: string): Promise<FileWithBucket | null> {
    return this.prisma.storageFile.findUnique({ where: { id }, ...FILE_WITH_BUCKET });
  }

  /** Whether a key is held by a ready file or by a pending upload whose URL is still valid. */
  async keyTaken(bucket: string, key: string): Promise<boolean> {
    const row = await this.prisma.storageFile.findUnique({
      where: { bucket_key: { bucket, key } },
      select: { status: true, uploadExpiresAt: true },
    });
    return row !== null && !(row.status === 'pending' && row.uploadExpiresAt !== null && row.uploadExpiresAt <= new Date());
  }

  /**
   * Ready files of a bucket under a prefix, in key order, after the `after` key. With a
   * filter, only the caller's own files and those whose read ACL names them.
   */
  listFiles(args: {
    bucket: string;
    prefix: string;
    after?: string;
    limit: number;
    filter: { userId?: string; entries: string[]; writeEntries: string[] } | null;
  }): Promise<FileRow[]> {
    const { bucket, prefix, after, limit, filter } = args;
    return this.prisma.storageFile.findMany({
      where: {
        bucket,
        status: 'ready',
        // Prisma passes startsWith to LIKE as is: escape its wildcards so `_` and `%` are plain characters.
        key: { startsWith: prefix.replace(/[\\%_]/g, (c) => `\\${c}`), ...(after !== undefined ? { gt: after } : {}) },
        ...(filter
          ? {
              OR: [
                ...(filter.userId ? [{ ownerId: filter.userId }] : []),
                { aclRead: { hasSome: filter.entries } },
                ...(filter.writeEntries.length > 0 ? [{ aclWrite: { hasSome: filter.writeEntries } }] : []),
              ],
            }
          : {}),
      },
      orderBy: { key: 'asc' },
      take: limit,
    });
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
      return await this.prisma.$transaction(async (tx) => {
        const stale = await tx.storageFile.findMany({
          where: { bucket: data.bucket, key: data.key, status: 'pending', uploadExpiresAt: { lte: new Date() } },
          select: { id: true, objectKey: true },
        });
        if (stale.length > 0) await tx.storageFile.deleteMany({ where: { id: { in: stale.map((s) => s.id) } } });
        const row = await tx.storageFile.create({ data: { ...data, size: BigInt(data.size) } });
        if (event) await writeOutbox(tx, 'storage.change', event);
        return { row, dropped: stale.map((s) => s.objectKey) };
      });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  /** Marks a pending file ready with its checksum and writes its `upload` event; undefined if it was no longer pending. */
  async markReady(id: string, checksum: string, event: StorageEvent): Promise<FileRow | undefined> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.storageFile.updateMany({
        where: { id, status: 'pending' },
        data: { status: 'ready', checksum, uploadExpiresAt: null },
      });
      if (count === 0) return undefined;
      await writeOutbox(tx, 'storage.change', event);
      return tx.storageFile.findUniqueOrThrow({ where: { id } });
    });
  }

  /**
   * Deletes a file row and, in the same transaction, the event `eventFor` builds from the
   * deleted row (null: no event, e.g. for a pending upload). Undefined when it was already gone.
   */
  async deleteFile(id: string, eventFor: (row: FileRow) => StorageEvent | null): Promise<FileRow | undefined> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.storageFile.delete({ where: { id } });
        const event = eventFor(row);
        if (event) await writeOutbox(tx, 'storage.change', event);
        return row;
      });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') return undefined;
      throw err;
    }
  }
}
