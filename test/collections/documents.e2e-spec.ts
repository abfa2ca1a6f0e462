import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, service, uniqueName } from './support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('documents', () => {
  let app: NestFastifyApplication;
  let posts: string;
  let alice: TestUser;
  let bob: TestUser;
  const url = (id?: string) => `/v1/collections/${posts}/documents${id ? `/${id}` : ''}`;

  beforeAll(async () => {
    app = await startApi();
    alice = await createUser(app);
    bob = await createUser(app);
    posts = await defineCollection(app, {
      name: uniqueName('posts'),
      fields: [
        { name: 'title', type: 'string', required: true, min: 1, max: 50 },
        { name: 'body', type: 'string' },
        { name: 'views', type: 'integer', min: 0, default: 0 },
        { name: 'rating', type: 'number', min: 0, max: 5 },
        { name: 'published', type: 'boolean', default: false },
        { name: 'publishedAt', type: 'date' },
        { name: 'status', type: 'string', enum: ['draft', 'live'] },
        { name: 'slug', type: 'string', unique: true, pattern: '[a-z0-9-]+' },
        { name: 'tags', type: 'array', items: 'string', max: 5 },
        { name: 'meta', type: 'json' },
        { name: 'author', type: 'reference', collection: 'users' },
      ],
      indexes: [['views'], ['tags'], ['status', 'createdAt']],
      rules: { list: 'public', read: 'public', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  describe('create and get', () => {
    it('creates a document with defaults, normalised dates, the caller as owner, an ETag and a Location', async () => {
      const res = await request(app.getHttpServer())
        .post(url())
        .set(bearer(alice))
        .send({ title: 'Hello', publishedAt: '2026-03-01T10:00:00+02:00', tags: ['a', 'b'], meta: { nested: { x: [1, null] } } })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID),
        title: 'Hello',
        views: 0,
        published: false,
        publishedAt: '2026-03-01T08:00:00.000Z',
        tags: ['a', 'b'],
        meta: { nested: { x: [1, null] } },
        ownerId: alice.id,
        acl: null,
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(res.headers.etag).toBe('"1"');
      expect(res.headers.location).toBe(url(res.body.id));

      const got = await request(app.getHttpServer()).get(url(res.body.id)).expect(200);
      expect(got.body).toEqual(res.body);
      expect(got.headers.etag).toBe('"1"');
    });

    it('answers 400 with one detail per invalid field', async () => {
      const res = await request(app.getHttpServer())
        .post(url())
        .set(bearer(alice))
        .send({
          title: '',
          views: 1.5,
          rating: 9,
          published: 'yes',
          publishedAt: '2026-02-30',
          status: 'archived',
          slug: 'Not A Slug',
          tags: ['ok', 3],
          author: 'not-a-uuid',
          nope: 1,
        })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      const byPath = Object.fromEntries((res.body.details as { path: string; message: string }[]).map((d) => [d.path, d.message]));
      expect(Object.keys(byPath).sort()).toEqual(
        ['author', 'nope', 'published', 'publishedAt', 'rating', 'slug', 'status', 'tags', 'title', 'views'].sort(),
      );
      expect(byPath.title).toMatch(/at least 1/);
      expect(byPath.nope).toMatch(/not a field/);
      expect(byPath.tags).toMatch(/item 1/);
    });

    it('requires required fields and rejects every system field but a client-chosen id (docs/data.md)', async () => {
      const res = await request(app.getHttpServer())
        .post(url())
        .set(bearer(alice))
        .send({ id: '7f8e9d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f', ownerId: bob.id, createdAt: '2020-01-01T00:00:00Z', updatedAt: '2020-01-01T00:00:00Z', version: 9 })
        .expect(400);
      const paths = (res.body.details as { path: string }[]).map((d) => d.path).sort();
      expect(paths).toEqual(['createdAt', 'ownerId', 'title', 'updatedAt', 'version']);
    });

    it('rejects a malformed acl', async () => {
      const res = await request(app.getHttpServer())
        .post(url())
        .set(bearer(alice))
        .send({ title: 'x', acl: { read: ['everyone'], admin: [] } })
        .expect(400);
      expect((res.body.details as { path: string }[]).map((d) => d.path).sort()).toEqual(['acl.admin', 'acl.read.0']);
    });

    it('a malformed id is 400, an unknown one 404, an unknown collection 404 COLLECTION_NOT_FOUND', async () => {
      await request(app.getHttpServer()).get(url('nope')).expect(400);
      const missing = await request(app.getHttpServer()).get(url('00000000-0000-4000-8000-000000000000')).expect(404);
      expect(missing.body.code).toBe('DOCUMENT_NOT_FOUND');
      const nocoll = await request(app.getHttpServer()).get('/v1/collections/no_such_collection/documents').expect(404);
      expect(nocoll.body.code).toBe('COLLECTION_NOT_FOUND');
    });

    it('anonymous callers are 401 where the create rule needs a user', async () => {
      const res = await request(app.getHttpServer()).post(url()).send({ title: 'x' }).expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('update, replace, delete, versions', () => {
    let id: string;

    beforeAll(async () => {
      id = (await request(app.getHttpServer()).post(url()).set(bearer(alice)).send({ title: 'v1', body: 'text', rating: 4 }).expect(201)).body.id;
    });

    it('PATCH merges, null removes a field, the version and ETag advance', async () => {
      const res = await request(app.getHttpServer()).patch(url(id)).set(bearer(alice)).send({ body: null, views: 3 }).expect(200);
      expect(res.body).toMatchObject({ title: 'v1', views: 3, rating: 4, version: 2 });
      expect(res.body).not.toHaveProperty('body');
      expect(res.headers.etag).toBe('"2"');
      expect(new Date(res.body.updatedAt).getTime()).toBeGreaterThan(new Date(res.body.createdAt).getTime() - 1);
    });

    it('PATCH cannot remove a required field', async () => {
      const res = await request(app.getHttpServer()).patch(url(id)).set(bearer(alice)).send({ title: null }).expect(400);
      expect(res.body.details).toEqual([{ path: 'title', message: 'is required' }]);
    });

    it('PUT replaces the whole document (fields left out are gone, defaults apply again)', async () => {
      const res = await request(app.getHttpServer()).put(url(id)).set(bearer(alice)).set('if-match', '"2"').send({ title: 'v3' }).expect(200);
      expect(res.body).toMatchObject({ title: 'v3', views: 0, published: false, version: 3 });
      expect(res.body).not.toHaveProperty('rating');
    });

    it('If-Match with a stale version is 412 for PUT, PATCH and DELETE and changes nothing', async () => {
      const s = app.getHttpServer();
      for (const call of [
        request(s).put(url(id)).set(bearer(alice)).set('if-match', '"2"').send({ title: 'stale' }),
        request(s).patch(url(id)).set(bearer(alice)).set('if-match', 'W/"1"').send({ title: 'stale' }),
        request(s).delete(url(id)).set(bearer(alice)).set('if-match', '"2"'),
        request(s).patch(url(id)).set(bearer(alice)).set('if-match', 'garbage').send({ title: 'stale' }),
      ]) {
        const res = await call;
        expect(res.status).toBe(412);
        expect(res.body.code).toBe('PRECONDITION_FAILED');
      }
      const now = await request(s).get(url(id)).expect(200);
      expect(now.body).toMatchObject({ title: 'v3', version: 3 });
      await request(s).patch(url(id)).set(bearer(alice)).set('if-match', '*').send({ views: 1 }).expect(200);
      await request(s).patch(url(id)).set(bearer(alice)).set('if-match', '4').send({ views: 2 }).expect(200);
    });

    it('another user cannot change the document (owner rule) nor its acl', async () => {
      await request(app.getHttpServer()).patch(url(id)).set(bearer(bob)).send({ title: 'mine' }).expect(403);
      const res = await request(app.getHttpServer()).patch(url(id)).set(bearer(alice)).send({ acl: { read: ['*'], write: [`user:${bob.id}`] } }).expect(200);
      expect(res.body.acl).toEqual({ read: ['*'], write: [`user:${bob.id}`] });
    });

    it('DELETE removes the document: 204, then 404', async () => {
      const doc = (await request(app.getHttpServer()).post(url()).set(bearer(alice)).send({ title: 'bye' }).expect(201)).body;
      await request(app.getHttpServer()).delete(url(doc.id)).set(bearer(alice)).set('if-match', '"1"').expect(204);
      await request(app.getHttpServer()).get(url(doc.id)).expect(404);
      await request(app.getHttpServer()).delete(url(doc.id)).set(bearer(alice)).expect(404);
    });
  });

  describe('unique fields and references', () => {
    it('a second document with the same unique value is 409 naming the field', async () => {
      await request(app.getHttpServer()).post(url()).set(bearer(alice)).send({ title: 'a', slug: 'same-slug' }).expect(201);
      const res = await request(app.getHttpServer()).post(url()).set(bearer(bob)).send({ title: 'b', slug: 'same-slug' }).expect(409);
      expect(res.body).toMatchObject({ code: 'CONFLICT', details: [{ path: 'slug', message: 'must be unique' }] });
      expect(res.text).not.toMatch(/ux-|data\./);
    });

    it('a reference must name an existing user; expanding users shows them only to themselves', async () => {
      const missing = await request(app.getHttpServer())
        .post(url())
        .set(bearer(alice))
        .send({ title: 'r', author: '00000000-0000-4000-8000-000000000000' })
        .expect(400);
      expect(missing.body.details).toEqual([{ path: 'author', message: 'references a missing user' }]);
      const doc = (await request(app.getHttpServer()).post(url()).set(bearer(alice)).send({ title: 'r', author: alice.id }).expect(201)).body;
      const own = await request(app.getHttpServer()).get(url(doc.id)).query({ expand: 'author' }).set(bearer(alice)).expect(200);
      expect(own.body.author).toEqual({ id: alice.id, email: alice.email });
      const other = await request(app.getHttpServer()).get(url(doc.id)).query({ expand: 'author' }).set(bearer(bob)).expect(200);
      expect(other.body.author).toBeNull();
      const plain = await request(app.getHttpServer()).get(url(doc.id)).set(bearer(bob)).expect(200);
      expect(plain.body.author).toBe(alice.id);
      const bad = await request(app.getHttpServer()).get(url(doc.id)).query({ expand: 'title' }).expect(400);
      expect(bad.body.code).toBe('INVALID_FIELDS');
    });
  });

  describe('list', () => {
    let shop: string;
    const list = (query: Record<string, string | number>) => request(app.getHttpServer()).get(`/v1/collections/${shop}/documents`).query(query);
    const names = (res: { body: { items: { name: string }[] } }) => res.body.items.map((i) => i.name);
    const filter = (f: unknown) => ({ filter: JSON.stringify(f), sort: 'name', limit: 100 });

    beforeAll(async () => {
      shop = await defineCollection(app, {
        name: uniqueName('shop'),
        fields: [
          { name: 'name', type: 'string', required: true },
          { name: 'price', type: 'number' },
          { name: 'stock', type: 'integer' },
          { name: 'active', type: 'boolean' },
          { name: 'released', type: 'date' },
          { name: 'tags', type: 'array', items: 'string' },
          { name: 'spec', type: 'json' },
        ],
        indexes: [['price'], ['tags']],
        rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
      });
      const items = [
        { name: 'apple', price: 1.5, stock: 10, active: true, released: '2026-01-10', tags: ['fruit', 'red'], spec: { color: 'red', size: { cm: 8 } } },
        { name: 'banana', price: 0.5, stock: 0, active: true, released: '2026-02-10', tags: ['fruit'], spec: { color: 'yellow', size: { cm: 20 } } },
        { name: 'cherry', price: 4, stock: 100, active: false, tags: ['fruit', 'red'], spec: { color: 'red' } },
        { name: 'daikon', price: 2, active: true, released: '2025-12-01', tags: ['vegetable'] },
        { name: 'eggplant', stock: 5, tags: [] },
      ];
      for (const item of items) {
        await request(app.getHttpServer()).post(`/v1/collections/${shop}/documents`).set(service).send(item).expect(201);
      }
    });

    it('filters with every operator', async () => {
      const cases: [unknown, string[]][] = [
        [{ name: 'apple' }, ['apple']],
        [{ price: { $eq: 2 } }, ['daikon']],
        [{ price: { $ne: 2 } }, ['apple', 'banana', 'cherry', 'eggplant']],
        [{ price: { $gt: 1.5 } }, ['cherry', 'daikon']],
        [{ price: { $gte: 1.5, $lt: 4 } }, ['apple', 'daikon']],
        [{ price: { $lte: 0.5 } }, ['banana']],
        [{ stock: { $in: [0, 5] } }, ['banana', 'eggplant']],
        [{ stock: { $nin: [0, 5] } }, ['apple', 'cherry', 'daikon']],
        [{ price: { $exists: false } }, ['eggplant']],
        [{ price: null }, ['eggplant']],
        [{ active: false }, ['cherry']],
        [{ released: { $gte: '2026-01-01' } }, ['apple', 'banana']],
        [{ name: { $contains: 'nan' } }, ['banana']],
        [{ name: { $startsWith: 'ch' } }, ['cherry']],
        [{ tags: { $contains: 'red' } }, ['apple', 'cherry']],
        [{ tags: [] }, ['eggplant']],
        [{ spec: { $contains: { color: 'red' } } }, ['apple', 'cherry']],
        [{ 'spec.color': 'yellow' }, ['banana']],
        [{ 'spec.size.cm': { $gt: 10 } }, ['banana']],
        [{ 'spec.size': { $exists: true } }, ['apple', 'banana']],
        [{ $or: [{ name: 'apple' }, { stock: { $gte: 100 } }] }, ['apple', 'cherry']],
        [{ $and: [{ active: true }, { price: { $lt: 2 } }] }, ['apple', 'banana']],
        [{ $not: { price: { $gt: 1 } } }, ['banana', 'eggplant']],
        [{ createdAt: { $lte: '2999-01-01T00:00:00Z' }, name: { $in: ['apple', 'zzz'] } }, ['apple']],
      ];
      for (const [f, expected] of cases) {
        const res = await list(filter(f));
        expect({ filter: f, status: res.status, names: res.status === 200 ? names(res) : res.body }).toEqual({ filter: f, status: 200, names: expected });
      }
    });

    it('sorts by several fields, ascending and descending, missing values last ascending', async () => {
      expect(names(await list({ sort: '-price' }).expect(200))).toEqual(['eggplant', 'cherry', 'daikon', 'apple', 'banana']);
      expect(names(await list({ sort: 'price' }).expect(200))).toEqual(['banana', 'apple', 'daikon', 'cherry', 'eggplant']);
      expect(names(await list({ sort: '-active,name' }).expect(200))).toEqual(['eggplant', 'apple', 'banana', 'daikon', 'cherry']);
    });

    it('projects fields (id always), counts, and bounds limit', async () => {
      const res = await list({ fields: 'name,price', sort: 'name', limit: 2, count: 'true' }).expect(200);
      expect(res.body.items).toEqual([
        { id: expect.stringMatching(UUID), version: 1, name: 'apple', price: 1.5 },
        { id: expect.stringMatching(UUID), version: 1, name: 'banana', price: 0.5 },
      ]);
      const one = await request(app.getHttpServer()).get(`/v1/collections/${shop}/documents/${res.body.items[0].id}`).query({ fields: 'price' }).expect(200);
      expect(one.body).toEqual({ id: res.body.items[0].id, version: 1, price: 1.5 });
      expect(one.headers.etag).toBe('"1"');
      expect(res.body.count).toBe(5);
      expect(typeof res.body.nextCursor).toBe('string');
      const counted = await list({ filter: JSON.stringify({ active: true }), count: 'true', limit: 1 }).expect(200);
      expect(counted.body.count).toBe(3);
      expect(counted.body.items).toHaveLength(1);
      const noCount = await list({}).expect(200);
      expect(noCount.body).not.toHaveProperty('count');
      expect(noCount.body.nextCursor).toBeNull();
      await list({ limit: 0 }).expect(400);
      await list({ limit: 501 }).expect(400);
      await list({ fields: 'name,secret' }).expect(400);
      await list({ unknown: 1 }).expect(400);
    });
  });
});
