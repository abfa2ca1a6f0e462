import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCollection, service, uniqueName } from '../collections/support.js';
import { startApi } from '../support/app.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { binary } from '../storage/fixtures.js';

describe('HTTP caching: ETag / If-None-Match, Last-Modified / If-Modified-Since, Cache-Control', () => {
  let app: NestFastifyApplication;
  let user: TestUser;
  let notes: string;
  const api = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startApi();
    user = await createUser(app);
    notes = await defineCollection(app, {
      name: uniqueName('cache_notes'),
      fields: [{ name: 'title', type: 'string' }, { name: 'body', type: 'string' }],
      rules: { list: 'authenticated', read: 'authenticated', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  describe('documents', () => {
    it('a document has a strong ETag; If-None-Match answers 304 without a body until it changes', async () => {
      const created = await api().post(`/v1/collections/${notes}/documents`).set(bearer(user)).send({ title: 'a' }).expect(201);
      const url = `/v1/collections/${notes}/documents/${created.body.id}`;
      const first = await api().get(url).set(bearer(user)).expect(200);
      const etag = first.headers.etag!;
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(first.headers['cache-control']).toBe('private, no-cache');

      const again = await api().get(url).set(bearer(user)).set('If-None-Match', etag);
      expect(again.status).toBe(304);
      expect(again.text ?? '').toBe('');
      expect(again.headers.etag).toBe(etag);
      // Lists of validators and weak comparison, as RFC 9110 says for If-None-Match.
      expect((await api().get(url).set(bearer(user)).set('If-None-Match', `"x", W/${etag}`)).status).toBe(304);
      expect((await api().get(url).set(bearer(user)).set('If-None-Match', '"other"')).status).toBe(200);

      // The ETag is still the If-Match validator for writes.
      await api().patch(url).set(bearer(user)).set('If-Match', etag).send({ title: 'b' }).expect(200);
      const changed = await api().get(url).set(bearer(user)).set('If-None-Match', etag);
      expect(changed.status).toBe(200);
      expect(changed.body.title).toBe('b');
      expect(changed.headers.etag).not.toBe(etag);
      await api().patch(url).set(bearer(user)).set('If-Match', etag).send({ title: 'c' }).expect(412);
    });

    it('a 304 comes only after the read check: a caller who may not read gets 404 whatever ETag they send', async () => {
      const owner = await createUser(app);
      const other = await createUser(app);
      const created = await api()
        .post(`/v1/collections/${notes}/documents`)
        .set(bearer(owner))
        .send({ title: 'mine', acl: { read: [`user:${owner.id}`] } })
        .expect(201);
      const url = `/v1/collections/${notes}/documents/${created.body.id}`;
      const etag = created.headers.etag!;
      const mine = await api().get(url).set(bearer(owner)).set('If-None-Match', etag);
      expect(mine.status).toBe(304);
      expect(mine.headers['cache-control']).toBe('private, no-cache');
      for (const guess of [etag, '*', `W/${etag}`]) {
        const res = await api().get(url).set(bearer(other)).set('If-None-Match', guess);
        expect(res.status, guess).toBe(404);
        expect(res.body.code).toBe('DOCUMENT_NOT_FOUND');
      }
      expect((await api().get(url).set('If-None-Match', etag)).status).toBe(404);
    });

    it('a projection and an expansion each have their own ETag', async () => {
      const created = await api().post(`/v1/collections/${notes}/documents`).set(bearer(user)).send({ title: 't', body: 'x' }).expect(201);
      const url = `/v1/collections/${notes}/documents/${created.body.id}`;
      const full = await api().get(url).set(bearer(user)).expect(200);
      const projected = await api().get(`${url}?fields=title`).set(bearer(user)).expect(200);
      expect(projected.body.body).toBeUndefined();
      expect(projected.headers.etag).toBeDefined();
      const refetched = await api().get(`${url}?fields=title`).set(bearer(user)).set('If-None-Match', projected.headers.etag!);
      expect(refetched.status).toBe(304);
      expect(full.headers.etag).toBeDefined();
    });

    it('a list has a strong ETag of its content: 304 while unchanged, 200 once a document is added', async () => {
      const url = `/v1/collections/${notes}/documents?sort=createdAt&limit=50`;
      const first = await api().get(url).set(bearer(user)).expect(200);
      const etag = first.headers.etag!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(first.headers['cache-control']).toBe('private, no-cache');
      expect((await api().get(url).set(bearer(user)).set('If-None-Match', etag)).status).toBe(304);
      await api().post(`/v1/collections/${notes}/documents`).set(bearer(user)).send({ title: 'new' }).expect(201);
      const after = await api().get(url).set(bearer(user)).set('If-None-Match', etag);
      expect(after.status).toBe(200);
      expect(after.headers.etag).not.toBe(etag);
    });

    it('other lists and reads get ETags too; writes and errors never answer 304', async () => {
      // One collection's definition: the list of all collections changes while other test files run.
      const def = await api().get(`/v1/collections/${notes}`).set(service).expect(200);
      expect((await api().get(`/v1/collections/${notes}`).set(service).set('If-None-Match', def.headers.etag!)).status).toBe(304);
      const post = await api().post(`/v1/collections/${notes}/documents`).set(bearer(user)).set('If-None-Match', '*').send({ title: 'p' });
      expect(post.status).toBe(201);
      const missing = await api().get(`/v1/collections/${notes}/documents/0b9f4a59-3c1e-4c43-9a5e-9a1b8b1c2d3e`).set(bearer(user)).set('If-None-Match', '*');
      expect(missing.status).toBe(404);
    });
  });

  describe('files', () => {
    let publicFile: string;
    let privateFile: string;
    const text = Buffer.from('hello, cache\n'.repeat(50));

    beforeAll(async () => {
      const pub = uniqueName('pub').replace(/_/g, '-');
      const priv = uniqueName('priv').replace(/_/g, '-');
      await api().post('/v1/storage/buckets').set(service).send({ name: pub, public: true }).expect(201);
      await api().post('/v1/storage/buckets').set(service).send({ name: priv }).expect(201);
      const up = (bucket: string) =>
        api().post(`/v1/storage/buckets/${bucket}/files`).set(bearer(user)).field('key', 'a.txt').attach('file', text, { filename: 'a.txt', contentType: 'text/plain' });
      publicFile = (await up(pub).expect(201)).body.id;
      privateFile = (await up(priv).expect(201)).body.id;
    });

    const content = (id: string, headers: Record<string, string> = {}) =>
      api().get(`/v1/storage/files/${id}/content`).set(bearer(user)).set(headers).buffer(true).parse(binary);

    it('serves Cache-Control by visibility: public bucket → public, private → private', async () => {
      expect((await content(publicFile).expect(200)).headers['cache-control']).toMatch(/^public\b/);
      expect((await content(privateFile).expect(200)).headers['cache-control']).toMatch(/^private\b/);
    });

    it('answers 304 to If-None-Match, and to If-Modified-Since at or after Last-Modified', async () => {
      const first = await content(privateFile).expect(200);
      expect(first.body).toEqual(text);
      const etag = first.headers.etag!;
      const lastModified = first.headers['last-modified']!;
      expect(new Date(lastModified).toUTCString()).toBe(lastModified);

      expect((await content(privateFile, { 'if-none-match': etag })).status).toBe(304);
      expect((await content(privateFile, { 'if-modified-since': lastModified })).status).toBe(304);
      const later = new Date(Date.parse(lastModified) + 3600_000).toUTCString();
      expect((await content(privateFile, { 'if-modified-since': later })).status).toBe(304);

      const earlier = new Date(Date.parse(lastModified) - 3600_000).toUTCString();
      const modified = await content(privateFile, { 'if-modified-since': earlier });
      expect(modified.status).toBe(200);
      expect(modified.body).toEqual(text);
      // If-None-Match wins over If-Modified-Since.
      expect((await content(privateFile, { 'if-none-match': '"stale"', 'if-modified-since': later })).status).toBe(200);
      expect((await content(privateFile, { 'if-modified-since': 'not a date' })).status).toBe(200);
    });

    it('file metadata (JSON) gets an ETag and 304 like documents', async () => {
      const meta = await api().get(`/v1/storage/files/${publicFile}`).set(bearer(user)).expect(200);
      expect(meta.headers.etag).toBeDefined();
      expect((await api().get(`/v1/storage/files/${publicFile}`).set(bearer(user)).set('If-None-Match', meta.headers.etag!)).status).toBe(304);
    });
  });
});
