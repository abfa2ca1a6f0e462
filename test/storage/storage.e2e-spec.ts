import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaService } from '#libs/database';
import { URL_SIGNER, type UrlSigner } from '#libs/storage';
import { SERVICE_KEY } from '../support/config.js';
import { subscribe } from '../support/subscribers.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { BAD_KEYS, binary, EXE, HTML, PNG, SVG, sha256 } from './fixtures.js';
import { DRIVERS, type StorageHarness, startStorageApi } from './harness.js';

const service = { 'x-api-key': SERVICE_KEY };
const FILE_SHAPE = {
  id: expect.stringMatching(/^[0-9a-f-]{36}$/),
  bucket: expect.any(String),
  key: expect.any(String),
  size: expect.any(Number),
  contentType: expect.any(String),
  ownerId: null,
  createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  status: 'ready',
};

describe.each(DRIVERS)('storage api with the %s driver', (kind) => {
  let h: StorageHarness;
  let prisma: PrismaService;
  const api = () => request(h.app.getHttpServer());
  const name = (base: string) => `${base}-${kind}-${randomBytes(3).toString('hex')}`;

  async function bucket(body: { public?: boolean; maxFileSize?: number; allowedMimeTypes?: string[] } = {}, base = 'b') {
    const res = await api().post('/v1/storage/buckets').set(service).send({ name: name(base), ...body }).expect(201);
    // Events are recorded only for buckets a function subscribes to (test/feed covers the unsubscribed case).
    await subscribe(h.app, { type: 'storage', bucket: res.body.name, events: ['upload', 'delete'] });
    return res.body.name as string;
  }

  interface UploadOptions {
    key?: string;
    acl?: unknown;
    filename?: string;
    contentType?: string;
    auth?: Record<string, string>;
  }
  function upload(bucketName: string, data: Buffer, options: UploadOptions = {}) {
    let req = api().post(`/v1/storage/buckets/${bucketName}/files`).set(options.auth ?? service);
    if (options.key !== undefined) req = req.field('key', options.key);
    if (options.acl !== undefined) req = req.field('acl', JSON.stringify(options.acl));
    return req.attach('file', data, { filename: options.filename ?? 'file.bin', contentType: options.contentType ?? 'application/octet-stream' });
  }

  const content = (id: string, auth: Record<string, string> = service) =>
    api().get(`/v1/storage/files/${id}/content`).set(auth).buffer(true).parse(binary);

  async function eventsFor(fileId: string) {
    const rows = await prisma.outboxEvent.findMany({
      where: { type: 'storage.change', payload: { path: ['file', 'id'], equals: fileId } },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((r) => r.payload as { operation: string; bucket: string; file: Record<string, unknown>; actor: unknown });
  }

  async function storageEventsInBucket(bucketName: string) {
    return prisma.outboxEvent.count({ where: { type: 'storage.change', payload: { path: ['bucket'], equals: bucketName } } });
  }

  /** Object keys the driver holds under a bucket's prefix. */
  async function objectsIn(bucketName: string): Promise<string[]> {
    if (h.localDir) {
      const dir = join(h.localDir, bucketName);
      return existsSync(dir) ? readdir(dir) : [];
    }
    const { Client } = await import('minio');
    const e = h.emulator!;
    const url = new URL(e.endpoint);
    const client = new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: e.accessKey, secretKey: e.secretKey, region: 'us-east-1', pathStyle: true });
    const names: string[] = [];
    for await (const item of client.listObjectsV2(e.bucket, `${bucketName}/`, true) as AsyncIterable<{ name?: string }>) {
      if (item.name) names.push(item.name);
    }
    return names;
  }

  beforeAll(async () => {
    h = await startStorageApi(kind);
    prisma = h.app.get(PrismaService);
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('buckets', () => {
    it('an admin creates a bucket; the name is unique and validated', async () => {
      const bucketName = name('photos');
      const created = await api()
        .post('/v1/storage/buckets')
        .set(service)
        .send({ name: bucketName, public: true, maxFileSize: 1_000_000, allowedMimeTypes: ['image/*', 'Application/PDF'] })
        .expect(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        name: bucketName,
        public: true,
        maxFileSize: 1_000_000,
        allowedMimeTypes: ['image/*', 'application/pdf'],
        rules: null,
        createdAt: expect.any(String),
      });
      const dup = await api().post('/v1/storage/buckets').set(service).send({ name: bucketName }).expect(409);
      expect(dup.body.code).toBe('BUCKET_EXISTS');
      for (const bad of ['..', 'UPPER', 'a', 'has_underscore', '-dash', 'x'.repeat(64)]) {
        const res = await api().post('/v1/storage/buckets').set(service).send({ name: bad }).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      const tooBig = await api().post('/v1/storage/buckets').set(service).send({ name: name('big'), maxFileSize: 6 * 1024 ** 3 }).expect(400);
      expect(tooBig.body.details).toEqual([expect.objectContaining({ path: 'maxFileSize' })]);
      const listed = await api().get('/v1/storage/buckets').set(service).expect(200);
      expect(listed.body.nextCursor).toBeNull();
      expect(listed.body.items.map((b: { name: string }) => b.name)).toContain(bucketName);
    });

    it('only admins (and the service role) manage buckets', async () => {
      const user = await createUser(h.app);
      const admin = await createUser(h.app, { roles: ['admin'] });
      await api().post('/v1/storage/buckets').send({ name: name('anon') }).expect(401);
      const forbidden = await api().post('/v1/storage/buckets').set(bearer(user)).send({ name: name('user') }).expect(403);
      expect(forbidden.body.code).toBe('FORBIDDEN');
      await api().get('/v1/storage/buckets').set(bearer(user)).expect(403);
      await api().post('/v1/storage/buckets').set(bearer(admin)).send({ name: name('admin') }).expect(201);
    });
  });

  describe('upload, read, list, download, delete', () => {
    let docs: string;
    const text = Buffer.from('hello world, this is a text file\n');
    let fileId: string;

    beforeAll(async () => {
      docs = await bucket({}, 'docs');
    });

    it('uploads a multipart file: metadata in Postgres, bytes in the driver, an upload event in the outbox', async () => {
      const res = await upload(docs, text, { key: 'notes/readme.txt', filename: 'readme.txt', contentType: 'text/plain' }).expect(201);
      expect(res.body).toEqual({
        ...FILE_SHAPE,
        bucket: docs,
        key: 'notes/readme.txt',
        size: text.length,
        contentType: 'text/plain',
        checksum: sha256(text),
        acl: { read: [], write: [] },
      });
      fileId = res.body.id;
      // Stored under a generated key, never the client's path.
      expect((await h.driver.stat(`${docs}/${fileId}`))?.size).toBe(text.length);
      const got = await api().get(`/v1/storage/files/${fileId}`).set(service).expect(200);
      expect(got.body).toEqual(res.body);
      const events = await eventsFor(fileId);
      expect(events).toEqual([
        {
          bucket: docs,
          operation: 'upload',
          file: { id: fileId, bucket: docs, key: 'notes/readme.txt', size: text.length, contentType: 'text/plain', ownerId: null },
          actor: { type: 'service', keyId: 'bootstrap' },
        },
      ]);
    });

    it('a second upload to the same key is 409 and writes no event', async () => {
      const before = await storageEventsInBucket(docs);
      const res = await upload(docs, text, { key: 'notes/readme.txt', contentType: 'text/plain' }).expect(409);
      expect(res.body.code).toBe('FILE_EXISTS');
      expect(await storageEventsInBucket(docs)).toBe(before);
    });

    it('without a key the file gets <id>/<file name>, with the name reduced to the key grammar', async () => {
      // The multipart parser keeps only the base name of a path-like file name.
      const traversal = await upload(docs, text, { filename: '../../etc/passwd', contentType: 'text/plain' }).expect(201);
      expect(traversal.body.key).toBe(`${traversal.body.id}/passwd`);
      expect((await h.driver.stat(`${docs}/${traversal.body.id}`))?.size).toBe(text.length);
      const odd = await upload(docs, text, { filename: 'rép<or>t:2026?.txt', contentType: 'text/plain' }).expect(201);
      expect(odd.body.key).toBe(`${odd.body.id}/rép_or_t_2026_.txt`);
      const dots = await upload(docs, text, { filename: '..', contentType: 'text/plain' }).expect(201);
      expect(dots.body.key).toBe(dots.body.id);
    });

    it('downloads the whole file with safe headers', async () => {
      const res = await content(fileId).expect(200);
      expect(res.body.equals(text)).toBe(true);
      expect(res.headers).toMatchObject({
        'content-type': 'text/plain',
        'content-length': String(text.length),
        etag: `"${sha256(text)}"`,
        'x-content-type-options': 'nosniff',
        'accept-ranges': 'bytes',
        'content-disposition': 'inline; filename=readme.txt',
      });
      const head = await api().head(`/v1/storage/files/${fileId}/content`).set(service).expect(200);
      expect(head.headers['content-length']).toBe(String(text.length));
      expect(head.headers.etag).toBe(`"${sha256(text)}"`);
      const attachment = await api().get(`/v1/storage/files/${fileId}/content?download=true`).set(service).expect(200);
      expect(attachment.headers['content-disposition']).toMatch(/^attachment; /);
    });

    it('serves byte ranges (206), answers 416 for bad ranges, and 304 for a matching ETag', async () => {
      const first = await content(fileId).set('range', 'bytes=0-4').expect(206);
      expect(first.body.toString()).toBe('hello');
      expect(first.headers['content-range']).toBe(`bytes 0-4/${text.length}`);
      expect(first.headers['content-length']).toBe('5');

      const middle = await content(fileId).set('range', 'bytes=6-10').expect(206);
      expect(middle.body.toString()).toBe('world');
      const suffix = await content(fileId).set('range', 'bytes=-5').expect(206);
      expect(suffix.body.equals(text.subarray(-5))).toBe(true);
      const open = await content(fileId).set('range', `bytes=${text.length - 3}-`).expect(206);
      expect(open.body.equals(text.subarray(-3))).toBe(true);
      const clipped = await content(fileId).set('range', 'bytes=30-9999').expect(206);
      expect(clipped.headers['content-range']).toBe(`bytes 30-${text.length - 1}/${text.length}`);

      for (const bad of [`bytes=${text.length}-`, 'bytes=1000-2000', 'bytes=5-2', 'bytes=abc', 'bytes=-0', 'bytes=-']) {
        const res = await content(fileId).set('range', bad);
        expect(res.status, bad).toBe(416);
        expect(res.headers['content-range']).toBe(`bytes */${text.length}`);
      }
      // Several ranges, or another unit: the whole file (a server may ignore Range).
      expect((await content(fileId).set('range', 'bytes=0-1,4-5').expect(200)).body.equals(text)).toBe(true);
      expect((await content(fileId).set('range', 'items=0-1').expect(200)).body.equals(text)).toBe(true);

      await content(fileId).set('if-none-match', `"${sha256(text)}"`).expect(304);
      // If-Range with a stale validator: the whole file instead of the range.
      expect((await content(fileId).set('range', 'bytes=0-4').set('if-range', '"stale"').expect(200)).body.equals(text)).toBe(true);
    });

    it('serves active content (HTML, SVG) as attachments, typed from the bytes, not the claim', async () => {
      const html = await upload(docs, HTML, { key: 'evil/page.txt', filename: 'page.txt', contentType: 'text/plain' }).expect(201);
      expect(html.body.contentType).toBe('text/html');
      const served = await content(html.body.id).expect(200);
      expect(served.headers['content-type']).toBe('text/html');
      expect(served.headers['content-disposition']).toMatch(/^attachment; filename=page.txt/);
      expect(served.headers['x-content-type-options']).toBe('nosniff');

      const svg = await upload(docs, SVG, { key: 'evil/logo.png', contentType: 'image/png' }).expect(201);
      expect(svg.body.contentType).toBe('image/svg+xml');
      expect((await content(svg.body.id).expect(200)).headers['content-disposition']).toMatch(/^attachment; /);

      const png = await upload(docs, PNG, { key: 'ok/pixel', contentType: 'application/octet-stream' }).expect(201);
      expect(png.body.contentType).toBe('image/png');
      expect((await content(png.body.id).expect(200)).headers['content-disposition']).toMatch(/^inline; /);
    });

    it('lists ready files by key under a prefix, page by page', async () => {
      const listed = await bucket({}, 'list');
      for (const key of ['a/3.txt', 'a/1.txt', 'a/2.txt', 'b/1.txt', 'a_b/1.txt', 'axb/1.txt']) {
        await upload(listed, Buffer.from(key), { key, contentType: 'text/plain' }).expect(201);
      }
      const page1 = await api().get(`/v1/storage/buckets/${listed}/files?prefix=a/&limit=2`).set(service).expect(200);
      expect(page1.body.items.map((f: { key: string }) => f.key)).toEqual(['a/1.txt', 'a/2.txt']);
      expect(page1.body.items[0]).toMatchObject({ ...FILE_SHAPE, bucket: listed, contentType: 'text/plain' });
      expect(page1.body.nextCursor).toEqual(expect.any(String));
      const page2 = await api()
        .get(`/v1/storage/buckets/${listed}/files`)
        .query({ prefix: 'a/', limit: 2, cursor: page1.body.nextCursor })
        .set(service)
        .expect(200);
      expect(page2.body).toEqual({ items: [expect.objectContaining({ key: 'a/3.txt' })], nextCursor: null });
      const badCursor = await api().get(`/v1/storage/buckets/${listed}/files`).query({ cursor: 'bm90LWEtY3Vyc29y' }).set(service).expect(400);
      expect(badCursor.body.code).toBe('INVALID_CURSOR');
      // `_` in a prefix is a character, not a LIKE wildcard.
      const underscore = await api().get(`/v1/storage/buckets/${listed}/files`).query({ prefix: 'a_' }).set(service).expect(200);
      expect(underscore.body.items.map((f: { key: string }) => f.key)).toEqual(['a_b/1.txt']);
      const percent = await api().get(`/v1/storage/buckets/${listed}/files`).query({ prefix: '%' }).set(service).expect(200);
      expect(percent.body.items).toEqual([]);
      const all = await api().get(`/v1/storage/buckets/${listed}/files`).set(service).expect(200);
      expect(all.body.items).toHaveLength(6);
      await api().get('/v1/storage/buckets/no-such-bucket/files').set(service).expect(404);
    });

    it('deletes a file: metadata and delete event in one transaction, then the bytes', async () => {
      const res = await upload(docs, text, { key: 'to-delete.txt', contentType: 'text/plain' }).expect(201);
      const id = res.body.id as string;
      await api().delete(`/v1/storage/files/${id}`).set(service).expect(204);
      expect((await api().get(`/v1/storage/files/${id}`).set(service).expect(404)).body.code).toBe('FILE_NOT_FOUND');
      await content(id).expect(404);
      expect(await h.driver.stat(`${docs}/${id}`)).toBeNull();
      expect((await eventsFor(id)).map((e) => e.operation)).toEqual(['upload', 'delete']);
      await api().delete(`/v1/storage/files/${id}`).set(service).expect(404);
      // The key is free again.
      await upload(docs, text, { key: 'to-delete.txt', contentType: 'text/plain' }).expect(201);
    });

    it('rejects requests that are not a single-file multipart form', async () => {
      const noFile = await api().post(`/v1/storage/buckets/${docs}/files`).set(service).field('key', 'x.txt').expect(400);
      expect(noFile.body.code).toBe('FILE_MISSING');
      const json = await api().post(`/v1/storage/buckets/${docs}/files`).set(service).send({ file: 'x' }).expect(415);
      expect(json.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const two = await api()
        .post(`/v1/storage/buckets/${docs}/files`)
        .set(service)
        .attach('file', text, 'a.txt')
        .attach('file', text, 'b.txt');
      expect(two.status).toBe(400);
      expect(two.body.code).toBe('TOO_MANY_FILES');
      const unknown = await api().post(`/v1/storage/buckets/${docs}/files`).set(service).field('owner', 'me').attach('file', text, 'a.txt').expect(400);
      expect(unknown.body.details).toEqual([expect.objectContaining({ path: 'owner' })]);
      const badAcl = await upload(docs, text, { acl: { read: ['everyone'] } }).expect(400);
      expect(badAcl.body.details).toEqual([expect.objectContaining({ path: 'acl' })]);
      const proto = await api().post(`/v1/storage/buckets/${docs}/files`).set(service).field('acl', '{"__proto__":{"x":1}}').attach('file', text, 'a.txt').expect(400);
      expect(proto.body.code).toBe('VALIDATION_FAILED');
      const missing = await upload('no-such-bucket', text).expect(404);
      expect(missing.body.code).toBe('BUCKET_NOT_FOUND');
    });
  });

  describe('limits', () => {
    it('enforces the bucket size limit while streaming: 413, no metadata, no object, no event', async () => {
      const small = await bucket({ maxFileSize: 1000 }, 'small');
      await upload(small, randomBytes(1000), { key: 'exact.bin' }).expect(201);
      const res = await upload(small, randomBytes(64 * 1024), { key: 'big.bin' }).expect(413);
      expect(res.body.code).toBe('FILE_TOO_LARGE');
      const listed = await api().get(`/v1/storage/buckets/${small}/files`).set(service).expect(200);
      expect(listed.body.items.map((f: { key: string }) => f.key)).toEqual(['exact.bin']);
      expect(await objectsIn(small)).toHaveLength(1);
      expect(await storageEventsInBucket(small)).toBe(1);
      if (h.localDir) expect(await readdir(join(h.localDir, '.tmp'))).toEqual([]);
      const presigned = await api().post(`/v1/storage/buckets/${small}/upload-url`).set(service).send({ size: 1001, contentType: 'image/png' }).expect(413);
      expect(presigned.body.code).toBe('FILE_TOO_LARGE');
    });

    it('checks the MIME type from the leading bytes against the bucket, whatever the client claims', async () => {
      const images = await bucket({ allowedMimeTypes: ['image/png'] }, 'images');
      const ok = await upload(images, PNG, { key: 'pixel.png', contentType: 'application/octet-stream' }).expect(201);
      expect(ok.body.contentType).toBe('image/png');
      const text = await upload(images, Buffer.from('just text'), { key: 'fake.png', contentType: 'image/png' }).expect(415);
      expect(text.body.code).toBe('MIME_TYPE_NOT_ALLOWED');
      expect(text.body.details[0].message).toContain('text/plain');
      const exe = await upload(images, EXE, { key: 'setup.png', filename: 'setup.png', contentType: 'image/png' }).expect(415);
      expect(exe.body.details[0].message).toContain('application/x-msdownload');
      const svg = await upload(images, SVG, { key: 'logo.png', contentType: 'image/png' }).expect(415);
      expect(svg.body.details[0].message).toContain('image/svg+xml');
      expect(await objectsIn(images)).toHaveLength(1);
      const presigned = await api().post(`/v1/storage/buckets/${images}/upload-url`).set(service).send({ size: 10, contentType: 'text/html' }).expect(415);
      expect(presigned.body.code).toBe('MIME_TYPE_NOT_ALLOWED');
    });
  });

  describe('keys cannot escape the bucket', () => {
    let keys: string;
    beforeAll(async () => {
      keys = await bucket({}, 'keys');
    });

    it.each(BAD_KEYS.map((k) => [JSON.stringify(k).slice(0, 60), k]))('refuses the key %s on upload and upload-url', async (_label, bad) => {
      const res = await upload(keys, Buffer.from('x'), { key: bad, contentType: 'text/plain' });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      const presigned = await api().post(`/v1/storage/buckets/${keys}/upload-url`).set(service).send({ key: bad, size: 1, contentType: 'text/plain' });
      expect(presigned.status).toBe(400);
      expect(presigned.body.code).toBe('VALIDATION_FAILED');
    });

    it('nothing was written outside the bucket, and paths with traversal never reach a route', async () => {
      expect(await objectsIn(keys)).toEqual([]);
      if (h.localDir) {
        expect(await readdir(h.localDir)).not.toContain('escape.txt');
        expect(existsSync(join(dirname(h.localDir), 'escape.txt'))).toBe(false);
      }
      await api().get('/v1/storage/files/..%2f..%2fetc%2fpasswd/content').set(service).expect((res) => expect([400, 404]).toContain(res.status));
      const bucketTraversal = await api().get('/v1/storage/buckets/..%2f..%2fetc/files').set(service);
      expect([400, 404]).toContain(bucketTraversal.status);
      expect(bucketTraversal.text).not.toContain('root:');
      const ok = await upload(keys, Buffer.from('fine'), { key: 'deep/ünïcødé name (1).txt', contentType: 'text/plain' }).expect(201);
      expect(ok.body.key).toBe('deep/ünïcødé name (1).txt');
      expect(await objectsIn(keys)).toEqual(h.localDir ? [ok.body.id] : [`${keys}/${ok.body.id}`]);
    });
  });

  describe('presigned upload and download', () => {
    let big: string;
    beforeAll(async () => {
      big = await bucket({ allowedMimeTypes: ['image/*', 'text/plain'] }, 'big');
    });

    function uploadUrl(body: Record<string, unknown>, auth: Record<string, string> = service) {
      return api().post(`/v1/storage/buckets/${big}/upload-url`).set(auth).send(body);
    }

    it('upload-url gives a pending file and a PUT URL; complete checks the object and marks it ready', async () => {
      const started = await uploadUrl({ key: 'images/pixel.png', size: PNG.length, contentType: 'image/png' }).expect(201);
      expect(started.body).toEqual({
        file: { ...FILE_SHAPE, bucket: big, key: 'images/pixel.png', size: PNG.length, contentType: 'image/png', status: 'pending', checksum: null, acl: { read: [], write: [] } },
        url: expect.any(String),
        method: 'PUT',
        headers: { 'content-type': 'image/png' },
        expiresAt: expect.any(String),
      });
      const id = started.body.file.id as string;
      if (kind === 'local') expect(started.body.url).toMatch(new RegExp(`^${h.baseUrl}/v1/storage/signed\\?token=`));

      // Not listed, not downloadable, not completable before the bytes are there.
      const listed = await api().get(`/v1/storage/buckets/${big}/files`).set(service).expect(200);
      expect(listed.body.items).toEqual([]);
      expect((await api().get(`/v1/storage/files/${id}/content`).set(service).expect(409)).body.code).toBe('FILE_NOT_READY');
      expect((await api().post(`/v1/storage/files/${id}/complete`).set(service).expect(409)).body.code).toBe('UPLOAD_MISSING');
      expect(await eventsFor(id)).toEqual([]);

      const put = await fetch(started.body.url, { method: 'PUT', body: PNG, headers: started.body.headers });
      expect(put.status).toBe(200);
      const done = await api().post(`/v1/storage/files/${id}/complete`).set(service).expect(200);
      expect(done.body).toMatchObject({ id, status: 'ready', checksum: sha256(PNG), size: PNG.length, contentType: 'image/png' });
      expect((await content(id).expect(200)).body.equals(PNG)).toBe(true);
      expect((await eventsFor(id)).map((e) => e.operation)).toEqual(['upload']);
      // Completing again changes nothing.
      await api().post(`/v1/storage/files/${id}/complete`).set(service).expect(200);
      expect(await eventsFor(id)).toHaveLength(1);

      // The PUT URL is still valid, but it writes beside the ready file, never over it.
      const again = await fetch(started.body.url, { method: 'PUT', body: Buffer.from(EXE.subarray(0, PNG.length)) });
      expect(again.status).toBe(200);
      expect((await content(id).expect(200)).body.equals(PNG)).toBe(true);
    });

    it('complete refuses an object whose size or type differs from the declaration; the file stays pending', async () => {
      const short = await uploadUrl({ size: PNG.length + 10, contentType: 'image/png' }).expect(201);
      await fetch(short.body.url, { method: 'PUT', body: PNG });
      const sizeRes = await api().post(`/v1/storage/files/${short.body.file.id}/complete`).set(service).expect(422);
      expect(sizeRes.body.code).toBe('SIZE_MISMATCH');

      const text = Buffer.from('this is text, not a PNG image!!'.padEnd(PNG.length, '!'));
      const typed = await uploadUrl({ size: text.length, contentType: 'image/png' }).expect(201);
      await fetch(typed.body.url, { method: 'PUT', body: text });
      const typeRes = await api().post(`/v1/storage/files/${typed.body.file.id}/complete`).set(service).expect(422);
      expect(typeRes.body.code).toBe('CONTENT_TYPE_MISMATCH');
      const still = await api().get(`/v1/storage/files/${typed.body.file.id}`).set(service).expect(200);
      expect(still.body.status).toBe('pending');
      expect(await h.driver.stat(`${big}/${typed.body.file.id}`)).toBeNull();
      expect(await eventsFor(typed.body.file.id)).toEqual([]);

      // A right upload to the same URL then completes.
      await fetch(typed.body.url, { method: 'PUT', body: PNG.subarray(0, text.length) });
      const retry = await api().post(`/v1/storage/files/${typed.body.file.id}/complete`).set(service).expect(200);
      expect(retry.body.status).toBe('ready');
    });

    it.runIf(kind === 'local')('the signed PUT refuses a body over the declared size, and bad or expired tokens', async () => {
      const started = await uploadUrl({ size: 10, contentType: 'text/plain' }).expect(201);
      const tooBig = await fetch(started.body.url, { method: 'PUT', body: Buffer.alloc(11, 0x61) });
      expect(tooBig.status).toBe(413);
      expect(((await tooBig.json()) as { code: string }).code).toBe('FILE_TOO_LARGE');
      const chunked = await fetch(started.body.url, {
        method: 'PUT',
        body: new ReadableStream({
          start: (c) => {
            c.enqueue(new Uint8Array(8));
            c.enqueue(new Uint8Array(8));
            c.close();
          },
        }),
        duplex: 'half',
      });
      expect(chunked.status).toBe(413);
      expect(await h.driver.stat(`${big}/${started.body.file.id}.upload`)).toBeNull();

      const signer = h.app.get<UrlSigner>(URL_SIGNER);
      const expired = signer.sign({ method: 'PUT', key: `${big}/${started.body.file.id}.upload`, exp: Math.floor(Date.now() / 1000) - 1, maxBytes: 10 });
      const res = await fetch(`${h.baseUrl}/v1/storage/signed?token=${expired}`, { method: 'PUT', body: 'x' });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('INVALID_SIGNATURE');
      const getToken = signer.sign({ method: 'GET', key: `${big}/${started.body.file.id}.upload`, exp: Math.floor(Date.now() / 1000) + 60 });
      expect((await fetch(`${h.baseUrl}/v1/storage/signed?token=${getToken}`, { method: 'PUT', body: 'x' })).status).toBe(403);
      expect((await fetch(`${h.baseUrl}/v1/storage/signed?token=garbage`, { method: 'PUT', body: 'x' })).status).toBe(403);
      expect((await fetch(`${h.baseUrl}/v1/storage/signed?token=${expired}`)).status).toBe(403);
      expect((await fetch(`${h.baseUrl}/v1/storage/signed?token=garbage`)).status).toBe(400);
    });

    it('a pending upload holds its key until its URL expires; then another upload may take it', async () => {
      const first = await uploadUrl({ key: 'reuse/me.png', size: PNG.length, contentType: 'image/png' }).expect(201);
      expect((await uploadUrl({ key: 'reuse/me.png', size: PNG.length, contentType: 'image/png' }).expect(409)).body.code).toBe('FILE_EXISTS');
      await upload(big, PNG, { key: 'reuse/me.png', contentType: 'image/png' }).expect(409);
      await fetch(first.body.url, { method: 'PUT', body: PNG });
      await prisma.storageFile.update({ where: { id: first.body.file.id }, data: { uploadExpiresAt: new Date(Date.now() - 1000) } });
      const taken = await upload(big, PNG, { key: 'reuse/me.png', contentType: 'image/png' }).expect(201);
      expect(taken.body.key).toBe('reuse/me.png');
      expect(await h.driver.stat(`${big}/${first.body.file.id}.upload`)).toBeNull();
      await api().get(`/v1/storage/files/${first.body.file.id}`).set(service).expect(404);
      await api().post(`/v1/storage/files/${first.body.file.id}/complete`).set(service).expect(404);
    });

    it('download-url gives a short-lived URL serving the bytes with the file type and disposition', async () => {
      const up = await upload(big, PNG, { key: 'dl/pixel.png', filename: 'pixel.png', contentType: 'image/png' }).expect(201);
      const link = await api().get(`/v1/storage/files/${up.body.id}/download-url`).set(service).expect(200);
      expect(link.body).toEqual({ url: expect.any(String), expiresAt: expect.any(String) });
      const ttl = Date.parse(link.body.expiresAt) - Date.now();
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300_000);
      const res = await fetch(link.body.url);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-disposition')).toMatch(/^inline; filename=pixel.png/);
      const ranged = await fetch(link.body.url, { headers: { range: 'bytes=0-7' } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(PNG.subarray(0, 8))).toBe(true);
      if (kind === 'local') {
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('etag')).toBe(`"${sha256(PNG)}"`);
      }
      // Deleting the file makes its URL useless.
      await api().delete(`/v1/storage/files/${up.body.id}`).set(service).expect(204);
      expect((await fetch(link.body.url)).status).toBe(404);
    });
  });

  describe('permissions', () => {
    let privateBucket: string;
    let publicBucket: string;
    let owner: TestUser;
    let friend: TestUser;
    let staff: TestUser;
    let stranger: TestUser;
    let admin: TestUser;
    let fileId: string;
    const secret = Buffer.from('private notes');

    beforeAll(async () => {
      privateBucket = await bucket({ public: false }, 'private');
      publicBucket = await bucket({ public: true }, 'public');
      [owner, friend, staff, stranger, admin] = await Promise.all([
        createUser(h.app),
        createUser(h.app),
        createUser(h.app, { roles: ['staff'] }),
        createUser(h.app),
        createUser(h.app, { roles: ['admin'] }),
      ]);
      const res = await upload(privateBucket, secret, {
        key: 'owner/notes.txt',
        contentType: 'text/plain',
        acl: { read: [`user:${friend.id}`, 'role:staff'] },
        auth: bearer(owner),
      }).expect(201);
      expect(res.body.ownerId).toBe(owner.id);
      fileId = res.body.id;
    });

    it('owner, admins, the service role and the ACL may read a private file', async () => {
      for (const auth of [bearer(owner), bearer(admin), service, bearer(friend), bearer(staff)]) {
        expect((await content(fileId, auth).expect(200)).body.equals(secret)).toBe(true);
        await api().get(`/v1/storage/files/${fileId}`).set(auth).expect(200);
        await api().get(`/v1/storage/files/${fileId}/download-url`).set(auth).expect(200);
      }
      const own = await api().get(`/v1/storage/files/${fileId}`).set(bearer(owner)).expect(200);
      expect(own.body.acl).toEqual({ read: [`user:${friend.id}`, 'role:staff'], write: [] });
      const reader = await api().get(`/v1/storage/files/${fileId}`).set(bearer(friend)).expect(200);
      expect(reader.body).not.toHaveProperty('acl');
    });

    it('a forbidden read answers exactly as a missing file does', async () => {
      const missing = await api().get(`/v1/storage/files/${randomUUID()}`).set(bearer(stranger)).expect(404);
      expect(missing.body).toEqual({ statusCode: 404, code: 'FILE_NOT_FOUND', message: expect.any(String), requestId: expect.any(String) });
      for (const auth of [bearer(stranger), {}]) {
        for (const path of [`/v1/storage/files/${fileId}`, `/v1/storage/files/${fileId}/content`, `/v1/storage/files/${fileId}/download-url`]) {
          const res = await api().get(path).set(auth).expect(404);
          expect({ ...res.body, requestId: 'x' }).toEqual({ ...missing.body, requestId: 'x' });
        }
      }
      const del = await api().delete(`/v1/storage/files/${fileId}`).set(bearer(stranger)).expect(404);
      expect(del.body.code).toBe('FILE_NOT_FOUND');
      await api().delete(`/v1/storage/files/${fileId}`).expect(401);
    });

    it('lists show each caller only the files they may read', async () => {
      const strangerFile = await upload(privateBucket, Buffer.from('mine'), { key: 'stranger/own.txt', contentType: 'text/plain', auth: bearer(stranger) }).expect(201);
      const keysFor = async (auth: Record<string, string>): Promise<string[]> => {
        const res = await api().get(`/v1/storage/buckets/${privateBucket}/files`).set(auth).expect(200);
        return (res.body.items as { key: string }[]).map((f) => f.key);
      };
      expect(await keysFor(bearer(stranger))).toEqual(['stranger/own.txt']);
      expect(await keysFor(bearer(friend))).toEqual(['owner/notes.txt']);
      expect(await keysFor(bearer(staff))).toEqual(['owner/notes.txt']);
      expect(await keysFor(bearer(owner))).toEqual(['owner/notes.txt']);
      expect(await keysFor(bearer(admin))).toEqual(['owner/notes.txt', 'stranger/own.txt']);
      expect(await keysFor({})).toEqual([]);
      await api().delete(`/v1/storage/files/${strangerFile.body.id}`).set(bearer(admin)).expect(204);
    });

    it('only the owner, admins, the service role and the write ACL may delete; readers get 403', async () => {
      const forbidden = await api().delete(`/v1/storage/files/${fileId}`).set(bearer(friend)).expect(403);
      expect(forbidden.body.code).toBe('FORBIDDEN');
      const shared = await upload(privateBucket, Buffer.from('shared'), {
        key: 'owner/shared.txt',
        contentType: 'text/plain',
        acl: { read: [], write: [`user:${friend.id}`] },
        auth: bearer(owner),
      }).expect(201);
      await api().delete(`/v1/storage/files/${shared.body.id}`).set(bearer(friend)).expect(204);
      expect((await eventsFor(shared.body.id)).at(-1)).toMatchObject({ operation: 'delete', actor: { type: 'user', id: friend.id } });
    });

    it('only the uploader (or an admin) may complete a presigned upload', async () => {
      const started = await api()
        .post(`/v1/storage/buckets/${privateBucket}/upload-url`)
        .set(bearer(owner))
        .send({ key: 'owner/later.txt', size: 5, contentType: 'text/plain' })
        .expect(201);
      expect(started.body.file.ownerId).toBe(owner.id);
      await fetch(started.body.url, { method: 'PUT', body: 'hello' });
      await api().get(`/v1/storage/files/${started.body.file.id}`).set(bearer(stranger)).expect(404);
      await api().post(`/v1/storage/files/${started.body.file.id}/complete`).set(bearer(stranger)).expect(404);
      await api().post(`/v1/storage/files/${started.body.file.id}/complete`).set(bearer(owner)).expect(200);
      await api().post(`/v1/storage/buckets/${privateBucket}/upload-url`).send({ size: 5, contentType: 'text/plain' }).expect(401);
    });

    it('a public bucket is readable and listable by anyone, but not writable anonymously', async () => {
      const res = await upload(publicBucket, Buffer.from('for everyone'), { key: 'hello.txt', contentType: 'text/plain', auth: bearer(owner) }).expect(201);
      expect((await content(res.body.id, {}).expect(200)).body.toString()).toBe('for everyone');
      expect((await content(res.body.id, {}).expect(200)).headers['cache-control']).toMatch(/^public/);
      const listed = await api().get(`/v1/storage/buckets/${publicBucket}/files`).expect(200);
      expect(listed.body.items.map((f: { key: string }) => f.key)).toEqual(['hello.txt']);
      await upload(publicBucket, Buffer.from('x'), { auth: {} }).expect(401);
      await api().delete(`/v1/storage/files/${res.body.id}`).set(bearer(stranger)).expect(403);
    });
  });
});
