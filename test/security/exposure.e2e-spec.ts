import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_KEY } from '../support/config.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, uniqueName } from '../collections/support.js';
import { binary, HTML, PNG, SVG } from '../storage/fixtures.js';
import { type StorageHarness, startStorageApi } from '../storage/harness.js';

const service = { 'x-api-key': SERVICE_KEY };

describe('what the api reveals and serves (issue 11, findings 15 and 16)', () => {
  let h: StorageHarness;
  let alice: TestUser;
  let bob: TestUser;
  const api = () => request(h.app.getHttpServer());

  async function bucket(isPublic: boolean): Promise<string> {
    const name = `exp-${randomBytes(4).toString('hex')}`;
    await api().post('/v1/storage/buckets').set(service).send({ name, public: isPublic }).expect(201);
    return name;
  }
  function upload(bucketName: string, auth: Record<string, string>, data: Buffer, key: string | undefined, contentType: string) {
    let req = api().post(`/v1/storage/buckets/${bucketName}/files`).set(auth);
    if (key !== undefined) req = req.field('key', key);
    return req.attach('file', data, { filename: 'f.bin', contentType });
  }

  beforeAll(async () => {
    h = await startStorageApi('local');
    alice = await createUser(h.app);
    bob = await createUser(h.app);
  });
  afterAll(async () => {
    await h.close();
  });

  describe('finding 15: only types positively identified as safe are served inline', () => {
    const notUtf8 = Buffer.from([0x80, 0x81, 0xfe, 0x00, 0x41, 0x42, 0xc3, 0x28, 0x00, 0x01]);
    const cases: [string, Buffer, string][] = [
      ['multipart/x-mixed-replace; boundary=zz', notUtf8, 'multipart/x-mixed-replace'],
      ['application/xml-dtd', notUtf8, 'application/xml-dtd'],
      ['image/x-not-an-image', notUtf8, 'image/x-not-an-image'],
      ['image/x-portable-anymap', notUtf8, 'image/x-portable-anymap'],
      ['application/x-unknown', notUtf8, 'application/x-unknown'],
      ['text/html', HTML, 'text/html'],
      ['image/png', SVG, 'image/svg+xml'],
      ['application/octet-stream', Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'), 'application/pdf'],
    ];

    it.each(cases)('a file claimed as %s is served as an attachment with nosniff', async (claimed, bytes, stored) => {
      const b = await bucket(true);
      const file = await upload(b, service, bytes, 'docs/file', claimed).expect(201);
      expect(file.body.contentType).toBe(stored);
      const served = await api().get(`/v1/storage/files/${file.body.id}/content`).buffer(true).parse(binary).expect(200);
      expect(served.headers['content-disposition']).toMatch(/^attachment; /);
      expect(served.headers['x-content-type-options']).toBe('nosniff');
      // The presigned download URL carries the same disposition.
      const url = await api().get(`/v1/storage/files/${file.body.id}/download-url`).expect(200);
      const viaUrl = await fetch(url.body.url);
      expect(viaUrl.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(viaUrl.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('images identified from their bytes and plain text are served inline', async () => {
      const b = await bucket(true);
      for (const [bytes, type] of [
        [PNG, 'image/png'],
        [Buffer.from('just some words\n'), 'text/plain'],
      ] as const) {
        const file = await upload(b, service, bytes, undefined, 'application/octet-stream').expect(201);
        expect(file.body.contentType).toBe(type);
        const served = await api().get(`/v1/storage/files/${file.body.id}/content`).buffer(true).parse(binary).expect(200);
        expect(served.headers['content-disposition']).toMatch(/^inline; /);
        expect(served.headers['x-content-type-options']).toBe('nosniff');
      }
    });
  });

  describe('finding 16: a conflict never reveals another user\'s private file or upload', () => {
    it('two users may hold the same key in a private bucket; each sees only theirs; a conflict is only with one\'s own', async () => {
      const b = await bucket(false);
      const a = await upload(b, bearer(alice), Buffer.from('alice secret'), 'reports/q3.txt', 'text/plain').expect(201);
      // Before: 409 FILE_EXISTS told bob that alice has reports/q3.txt.
      const mine = await upload(b, bearer(bob), Buffer.from('bob'), 'reports/q3.txt', 'text/plain').expect(201);
      expect(mine.body.key).toBe('reports/q3.txt');
      const again = await upload(b, bearer(bob), Buffer.from('bob 2'), 'reports/q3.txt', 'text/plain').expect(409);
      expect(again.body.code).toBe('FILE_EXISTS');
      const bobList = await api().get(`/v1/storage/buckets/${b}/files`).set(bearer(bob)).expect(200);
      expect(bobList.body.items.map((f: { id: string }) => f.id)).toEqual([mine.body.id]);
      await api().get(`/v1/storage/files/${a.body.id}/content`).set(bearer(bob)).expect(404);
      // The service role sees both, and paging one at a time returns both files of that key.
      const page1 = await api().get(`/v1/storage/buckets/${b}/files?limit=1`).set(service).expect(200);
      const page2 = await api().get(`/v1/storage/buckets/${b}/files?limit=1&cursor=${page1.body.nextCursor}`).set(service).expect(200);
      expect(new Set([...page1.body.items, ...page2.body.items].map((f: { id: string }) => f.id))).toEqual(new Set([a.body.id, mine.body.id]));
    });

    it('an upload URL reserves its key only for its requester, in private and public buckets', async () => {
      for (const isPublic of [false, true]) {
        const b = await bucket(isPublic);
        const key = `incoming/${randomUUID()}.txt`;
        await api().post(`/v1/storage/buckets/${b}/upload-url`).set(bearer(alice)).send({ key, size: 5, contentType: 'text/plain' }).expect(201);
        // Bob can neither learn of alice's pending upload nor be kept from the key by it.
        await api().post(`/v1/storage/buckets/${b}/upload-url`).set(bearer(bob)).send({ key, size: 5, contentType: 'text/plain' }).expect(201);
        await upload(b, bearer(bob), Buffer.from('bob!!'), `${key}.direct`, 'text/plain').expect(201);
        // Alice's own second reservation of the key conflicts.
        const own = await api().post(`/v1/storage/buckets/${b}/upload-url`).set(bearer(alice)).send({ key, size: 5, contentType: 'text/plain' }).expect(409);
        expect(own.body.code).toBe('FILE_EXISTS');
      }
    });

    it('in a public bucket the ready files share one namespace: the second to complete a key gets 409', async () => {
      const b = await bucket(true);
      const key = `shared/${randomUUID()}.txt`;
      const fromAlice = await api().post(`/v1/storage/buckets/${b}/upload-url`).set(bearer(alice)).send({ key, size: 5, contentType: 'text/plain' }).expect(201);
      const fromBob = await api().post(`/v1/storage/buckets/${b}/upload-url`).set(bearer(bob)).send({ key, size: 5, contentType: 'text/plain' }).expect(201);
      for (const started of [fromAlice, fromBob]) {
        expect((await fetch(started.body.url, { method: 'PUT', body: Buffer.from('hello'), headers: started.body.headers })).status).toBe(200);
      }
      await api().post(`/v1/storage/files/${fromAlice.body.file.id}/complete`).set(bearer(alice)).expect(200);
      const late = await api().post(`/v1/storage/files/${fromBob.body.file.id}/complete`).set(bearer(bob)).expect(409);
      expect(late.body.code).toBe('FILE_EXISTS');
      // The key is held by a file bob can list anyway.
      const listed = await api().get(`/v1/storage/buckets/${b}/files?prefix=shared/`).set(bearer(bob)).expect(200);
      expect(listed.body.items.map((f: { key: string }) => f.key)).toContain(key);
      await upload(b, bearer(bob), Buffer.from('x'), key, 'text/plain').expect(409);
    });

    it('a unique document field answers the same 409 whether or not the caller may read the holder, and nothing more', async () => {
      const name = await defineCollection(h.app, {
        name: uniqueName('exp_unique'),
        fields: [
          { name: 'handle', type: 'string', unique: true },
          { name: 'secret', type: 'string' },
        ],
        rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
      });
      const docs = `/v1/collections/${name}/documents`;
      const hidden = await api().post(docs).set(bearer(alice)).send({ handle: 'taken-by-alice', secret: 'alice-private-value' }).expect(201);
      await api().post(docs).set(bearer(bob)).send({ handle: 'taken-by-bob', secret: 'x' }).expect(201);
      const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
      const unreadable = await api().post(docs).set(bearer(bob)).send({ handle: 'taken-by-alice' }).expect(409);
      const readable = await api().post(docs).set(bearer(bob)).send({ handle: 'taken-by-bob' }).expect(409);
      expect(strip(unreadable.body)).toEqual(strip(readable.body));
      expect(unreadable.body).toMatchObject({ code: 'CONFLICT', details: [{ path: 'handle', message: 'must be unique' }] });
      expect(unreadable.text).not.toContain(hidden.body.id);
      expect(unreadable.text).not.toContain(alice.id);
      expect(unreadable.text).not.toContain('alice-private-value');
    });
  });
});
