import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Prisma, PrismaClient } from '../../libs/database/src/generated/client.js';

/**
 * The storage migration builds exactly the tables the generated client expects: a row with
 * every field set (extreme values included) is written, read back identical, and deleted;
 * the defaults and constraints the schema declares hold.
 */
describe('storage tables match the Prisma schema', () => {
  let prisma: PrismaClient;
  const at = (iso: string) => new Date(iso);

  beforeAll(() => {
    prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: inject('databaseUrl') }) });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
  });

  it('round-trips a bucket and a file with every field set', async () => {
    const bucket = {
      id: randomUUID(),
      name: `schema-${randomUUID().slice(0, 8)}`,
      public: true,
      maxFileSize: 5n * 1024n ** 3n,
      allowedMimeTypes: ['image/*', 'application/pdf'],
      rules: { create: { segment0: '@auth.id' }, delete: ['owner', 'role:moderator'] },
      createdAt: at('2026-01-02T03:04:05.678Z'),
      updatedAt: at('2026-01-03T03:04:05.678Z'),
    };
    expect(await prisma.storageBucket.create({ data: bucket })).toEqual(bucket);
    const id = randomUUID();
    const file = {
      id,
      bucket: bucket.name,
      key: 'ünïcødé/a b (1).png',
      keyScope: '',
      objectKey: `${bucket.name}/${id}`,
      size: 2n ** 40n,
      contentType: 'image/png',
      checksum: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ownerId: randomUUID(),
      aclRead: ['*', 'role:staff'],
      aclWrite: [`user:${randomUUID()}`],
      status: 'ready',
      uploadExpiresAt: at('2026-01-02T04:04:05.678Z'),
      createdAt: at('2026-01-02T03:04:05.678Z'),
      updatedAt: at('2026-01-02T03:05:05.678Z'),
    };
    expect(await prisma.storageFile.create({ data: file })).toEqual(file);
    expect(await prisma.storageFile.findUnique({ where: { bucket_keyScope_key: { bucket: bucket.name, keyScope: '', key: file.key } } })).toEqual(file);
    await prisma.storageFile.delete({ where: { id } });
    await prisma.storageBucket.delete({ where: { id: bucket.id } });
  });

  it('applies the defaults, and enforces the unique keys and the bucket reference', async () => {
    const bucket = await prisma.storageBucket.create({ data: { name: `schema-${randomUUID().slice(0, 8)}` } });
    expect(bucket).toMatchObject({ public: false, maxFileSize: null, allowedMimeTypes: [] });
    const data = { bucket: bucket.name, key: 'a.txt', objectKey: `${bucket.name}/${randomUUID()}`, size: 1n, contentType: 'text/plain' };
    const file = await prisma.storageFile.create({ data });
    expect(file).toMatchObject({ status: 'pending', checksum: null, ownerId: null, aclRead: [], aclWrite: [], uploadExpiresAt: null });
    const duplicateKey = prisma.storageFile.create({ data: { ...data, objectKey: `${bucket.name}/${randomUUID()}` } });
    await expect(duplicateKey).rejects.toMatchObject({ code: 'P2002' });
    // The same key in another namespace (an owner's) is another file.
    const otherScope = await prisma.storageFile.create({ data: { ...data, keyScope: randomUUID(), objectKey: `${bucket.name}/${randomUUID()}` } });
    await prisma.storageFile.delete({ where: { id: otherScope.id } });
    await expect(prisma.storageBucket.create({ data: { name: bucket.name } })).rejects.toMatchObject({ code: 'P2002' });
    const orphan = prisma.storageFile.create({ data: { ...data, bucket: 'no-such-bucket', objectKey: `x/${randomUUID()}` } });
    await expect(orphan).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    // A bucket with files cannot be deleted.
    await expect(prisma.storageBucket.delete({ where: { id: bucket.id } })).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    await prisma.storageFile.delete({ where: { id: file.id } });
    await prisma.storageBucket.delete({ where: { id: bucket.id } });
  });
});
