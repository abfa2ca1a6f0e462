import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { subscribe } from '../support/subscribers.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, directPool, eventsOf, service, uniqueName } from './support.js';

const PUBLIC = { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' };

/** Compound and partial unique indexes, client-chosen ids and upsert, onDelete (docs/data.md). */
describe('data model', () => {
  let app: NestFastifyApplication;
  let db: pg.Pool;
  let alice: TestUser;
  let bob: TestUser;
  const s = () => app.getHttpServer();
  const post = (collection: string, body: Record<string, unknown>, headers: Record<string, string> = service) =>
    request(s()).post(`/v1/collections/${collection}/documents`).set(headers).send(body);

  beforeAll(async () => {
    app = await startApi();
    db = directPool();
    alice = await createUser(app);
    bob = await createUser(app);
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  describe('unique indexes', () => {
    it('a compound unique index stops a second favourite of the same recipe by the same user', async () => {
      const favourites = await defineCollection(app, {
        name: uniqueName('favs'),
        fields: [
          { name: 'user', type: 'reference', collection: 'users', required: true },
          { name: 'recipe', type: 'string', required: true },
        ],
        indexes: [{ fields: ['user', 'recipe'], unique: true }],
        rules: { ...PUBLIC, create: { user: '@auth.id' } },
      });
      await post(favourites, { user: alice.id, recipe: 'r1' }, bearer(alice)).expect(201);
      const twice = await post(favourites, { user: alice.id, recipe: 'r1' }, bearer(alice)).expect(409);
      expect(twice.body).toMatchObject({ code: 'CONFLICT' });
      expect(twice.body.details).toEqual([
        { path: 'user', message: 'must be unique' },
        { path: 'recipe', message: 'must be unique' },
      ]);
      await post(favourites, { user: alice.id, recipe: 'r2' }, bearer(alice)).expect(201);
      await post(favourites, { user: bob.id, recipe: 'r1' }, bearer(bob)).expect(201);
      const count = await request(s()).get(`/v1/collections/${favourites}/documents`).query({ count: 'true', limit: 1 }).expect(200);
      expect(count.body.count).toBe(3);
    });

    it('a partial unique index applies to the documents its filter matches', async () => {
      const pages = await defineCollection(app, {
        name: uniqueName('pages'),
        fields: [
          { name: 'slug', type: 'string' },
          { name: 'status', type: 'string' },
        ],
        indexes: [{ fields: ['slug'], unique: true, where: { status: 'published' } }],
        rules: PUBLIC,
      });
      await post(pages, { slug: 'home', status: 'draft' }).expect(201);
      await post(pages, { slug: 'home', status: 'draft' }).expect(201);
      const published = await post(pages, { slug: 'home', status: 'published' }).expect(201);
      expect((await post(pages, { slug: 'home', status: 'published' }).expect(409)).body.details).toEqual([{ path: 'slug', message: 'must be unique' }]);
      // Publishing a draft with a taken slug is refused too.
      const draft = (await post(pages, { slug: 'home', status: 'draft' }).expect(201)).body.id as string;
      await request(s()).patch(`/v1/collections/${pages}/documents/${draft}`).set(service).send({ status: 'published' }).expect(409);
      await request(s()).patch(`/v1/collections/${pages}/documents/${published.body.id}`).set(service).send({ status: 'archived' }).expect(200);
      await request(s()).patch(`/v1/collections/${pages}/documents/${draft}`).set(service).send({ status: 'published' }).expect(200);
    });

    it('adding a unique index over shared values is 409 DATA_CONFLICT at its path; bad where filters are 400', async () => {
      const tags = await defineCollection(app, { name: uniqueName('tags'), fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'string' }], rules: PUBLIC });
      await post(tags, { a: 'x', b: 'y' }).expect(201);
      await post(tags, { a: 'x', b: 'y' }).expect(201);
      const res = await request(s())
        .patch(`/v1/collections/${tags}`)
        .set(service)
        .send({ indexes: [['a'], { fields: ['a', 'b'], unique: true }] })
        .expect(409);
      expect(res.body).toMatchObject({ code: 'DATA_CONFLICT', details: [{ path: 'indexes.1', message: 'stored documents share values of "a", "b"' }] });
      // Nothing of the change applied: the plain index was not created either, no invalid index is left.
      const def = await request(s()).get(`/v1/collections/${tags}`).set(service).expect(200);
      expect(def.body.indexes).toEqual([]);
      const { rows } = await db.query(`SELECT 1 FROM pg_indexes WHERE schemaname = 'data' AND tablename = $1`, [tags]);
      expect(rows.length).toBe(3); // primary key and the 2 built in
      for (const [where, path] of [
        [{ nope: 1 }, 'indexes.0.where.nope'],
        [{ a: { $gt: 1 } }, 'indexes.0.where.a.$gt'],
        [{ createdAt: { $gt: '2026-01-01' } }, 'indexes.0.where'],
        [{ a: '@auth.id' }, undefined],
      ] as const) {
        const bad = await request(s())
          .patch(`/v1/collections/${tags}`)
          .set(service)
          .send({ indexes: [{ fields: ['b'], unique: true, where }] });
        if (path === undefined) {
          // No variables in an index: the value is the literal string "@auth.id".
          expect(bad.status).toBe(200);
          continue;
        }
        expect(bad.status).toBe(400);
        expect((bad.body.details as { path: string }[]).map((d) => d.path)).toContain(path);
      }
    });
  });

  it('adding an index builds it without blocking writes (CREATE INDEX CONCURRENTLY)', async () => {
    const name = await defineCollection(app, { name: uniqueName('busy'), fields: [{ name: 'title', type: 'string' }], rules: PUBLIC });
    // An open transaction that wrote to the table: a concurrent build waits for it to end.
    const writer = await db.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO data."${name}" (id, data) VALUES (gen_random_uuid(), '{"title": "held"}')`);
      let done = false;
      const change = request(s())
        .patch(`/v1/collections/${name}`)
        .set(service)
        .send({ indexes: [['title'], { fields: ['title'], unique: true, where: { title: { $startsWith: 'u-' } } }] })
        .then((res) => {
          done = true;
          return res;
        });
      let waiting = false;
      for (let i = 0; i < 100 && !waiting; i++) {
        const { rows } = await db.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE 'CREATE %INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'`);
        waiting = rows.length > 0;
        if (!waiting) await new Promise((r) => setTimeout(r, 50));
      }
      expect(waiting).toBe(true);
      // While the build waits, the collection takes writes and reads.
      await post(name, { title: 'written during the build' }).expect(201);
      await request(s()).get(`/v1/collections/${name}/documents`).expect(200);
      expect(done).toBe(false);
      await writer.query('COMMIT');
      expect((await change).status).toBe(200);
    } finally {
      writer.release();
    }
    const { rows } = await db.query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'data' AND c.relname = $1`,
      [name],
    );
    expect(rows.length).toBe(5); // primary key, 2 built in, the 2 new ones
    expect(rows.every((r) => r.valid)).toBe(true);
  });

  describe('client-chosen ids and upsert', () => {
    let notes: string;
    beforeAll(async () => {
      notes = await defineCollection(app, {
        name: uniqueName('notes'),
        fields: [{ name: 'text', type: 'string' }],
        rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
      });
    });

    it('POST takes an id the client chose (a UUID), once', async () => {
      const id = '0b6f8f3e-6a7d-4b44-9a58-5b1f7c0e9d11';
      const created = await post(notes, { id: id.toUpperCase(), text: 'a' }, bearer(alice)).expect(201);
      expect(created.body).toMatchObject({ id, text: 'a', ownerId: alice.id });
      expect((await post(notes, { id, text: 'b' }, bearer(alice)).expect(409)).body).toMatchObject({ code: 'CONFLICT', details: [{ path: 'id', message: 'is taken' }] });
      for (const bad of ['x', 42, '0b6f8f3e-6a7d-4b44-9a58', null]) {
        expect((await post(notes, { id: bad, text: 'c' }, bearer(alice)).expect(400)).body.details).toEqual([{ path: 'id', message: 'must be a UUID' }]);
      }
    });

    it('PUT creates when absent (201, if the create rule allows), replaces when present (200)', async () => {
      const id = '7f1d5a52-3c1e-4f0e-8b7a-0d2c9e4b6a10';
      const url = `/v1/collections/${notes}/documents/${id}`;
      await request(s()).put(url).send({ text: 'anonymous' }).expect(401);
      const created = await request(s()).put(url).set(bearer(alice)).send({ text: 'first' }).expect(201);
      expect(created.headers.location).toBe(url);
      expect(created.body).toMatchObject({ id, text: 'first', version: 1, ownerId: alice.id });
      const replaced = await request(s()).put(url).set(bearer(alice)).send({ text: 'second' }).expect(200);
      expect(replaced.body).toMatchObject({ id, text: 'second', version: 2 });
      // Someone who cannot read it neither replaces nor re-creates it.
      await request(s()).put(url).set(bearer(bob)).send({ text: 'hijack' }).expect(404);
      expect((await request(s()).get(url).set(bearer(alice)).expect(200)).body).toMatchObject({ text: 'second', ownerId: alice.id });
      // If-Match on a document that does not exist cannot match.
      await request(s()).put(`/v1/collections/${notes}/documents/3e0c1d7a-9b8f-4a6e-8d5c-2b1a0f9e8d7c`).set(bearer(alice)).set('If-Match', '"1"').send({ text: 'x' }).expect(412);
      // Batches upsert the same way.
      const batch = await request(s())
        .post('/v1/batch')
        .set(bearer(alice))
        .send({ operations: [{ op: 'replace', collection: notes, id: '5c4b3a29-1807-4f6e-9d5c-4b3a2f1e0d9c', data: { text: 'batch' } }, { op: 'replace', collection: notes, id, data: { text: 'third' } }] })
        .expect(200);
      expect(batch.body.results.map((r: { status: number }) => r.status)).toEqual([201, 200]);
    });
  });

  describe('onDelete', () => {
    let recipes: string;
    let comments: string;
    let photos: string;
    beforeAll(async () => {
      recipes = await defineCollection(app, { name: uniqueName('recipes'), fields: [{ name: 'title', type: 'string' }], rules: PUBLIC });
      comments = await defineCollection(app, {
        name: uniqueName('comments'),
        fields: [
          { name: 'recipe', type: 'reference', collection: recipes, onDelete: 'cascade', required: true },
          { name: 'text', type: 'string' },
        ],
        indexes: [['recipe']],
        rules: PUBLIC,
      });
      // Replies are comments on comments: deleting a comment deletes its replies, and so on.
      await request(s())
        .patch(`/v1/collections/${comments}`)
        .set(service)
        .send({
          fields: [
            { name: 'recipe', type: 'reference', collection: recipes, onDelete: 'cascade', required: true },
            { name: 'text', type: 'string' },
            { name: 'parent', type: 'reference', collection: comments, onDelete: 'cascade' },
          ],
        })
        .expect(200);
      photos = await defineCollection(app, {
        name: uniqueName('photos'),
        fields: [
          { name: 'recipe', type: 'reference', collection: recipes, onDelete: 'setNull' },
          { name: 'file', type: 'string' },
        ],
        rules: PUBLIC,
      });
      // Events are recorded for collections a function subscribes to.
      for (const collection of [comments, photos]) await subscribe(app, { type: 'db', collection, events: ['create', 'update', 'delete'] });
    });

    it('cascade deletes the comments (and their replies), setNull detaches the photos, each with a change event', async () => {
      const recipe = (await post(recipes, { title: 'soup' }).expect(201)).body.id as string;
      const other = (await post(recipes, { title: 'salad' }).expect(201)).body.id as string;
      const c1 = (await post(comments, { recipe, text: 'yum' }).expect(201)).body.id as string;
      const reply = (await post(comments, { recipe: other, parent: c1, text: 'agreed' }).expect(201)).body.id as string;
      const kept = (await post(comments, { recipe: other, text: 'fresh' }).expect(201)).body.id as string;
      const photo = (await post(photos, { recipe, file: 'soup.png' }).expect(201)).body.id as string;

      // The deleting caller needs only the delete rule of the recipe.
      await request(s()).delete(`/v1/collections/${recipes}/documents/${recipe}`).expect(204);

      await request(s()).get(`/v1/collections/${comments}/documents/${c1}`).expect(404);
      await request(s()).get(`/v1/collections/${comments}/documents/${reply}`).expect(404);
      await request(s()).get(`/v1/collections/${comments}/documents/${kept}`).expect(200);
      const detached = await request(s()).get(`/v1/collections/${photos}/documents/${photo}`).expect(200);
      expect(detached.body).toMatchObject({ file: 'soup.png', version: 2 });
      expect(detached.body).not.toHaveProperty('recipe');

      expect((await eventsOf(db, c1)).map((e) => e.payload.operation)).toEqual(['create', 'delete']);
      expect((await eventsOf(db, reply)).map((e) => e.payload.operation)).toEqual(['create', 'delete']);
      const photoEvents = await eventsOf(db, photo);
      expect(photoEvents.map((e) => e.payload.operation)).toEqual(['create', 'update']);
      expect(photoEvents[1]!.payload).toMatchObject({ before: { recipe, version: 1 }, after: { version: 2 } });
      expect(photoEvents[1]!.payload.after).not.toHaveProperty('recipe');
    });

    it('restrict refuses the delete while something references the document, and nothing changes', async () => {
      const orders = await defineCollection(app, {
        name: uniqueName('orders'),
        fields: [{ name: 'recipe', type: 'reference', collection: recipes, onDelete: 'restrict' }],
        rules: PUBLIC,
      });
      const recipe = (await post(recipes, { title: 'cake' }).expect(201)).body.id as string;
      const comment = (await post(comments, { recipe, text: 'nice' }).expect(201)).body.id as string;
      const order = (await post(orders, { recipe }).expect(201)).body.id as string;
      const res = await request(s()).delete(`/v1/collections/${recipes}/documents/${recipe}`).expect(409);
      expect(res.body).toMatchObject({ code: 'DOCUMENT_REFERENCED', details: [{ path: `${orders}.recipe` }] });
      await request(s()).get(`/v1/collections/${recipes}/documents/${recipe}`).expect(200);
      await request(s()).get(`/v1/collections/${comments}/documents/${comment}`).expect(200);
      await request(s()).delete(`/v1/collections/${orders}/documents/${order}`).expect(204);
      await request(s()).delete(`/v1/collections/${recipes}/documents/${recipe}`).expect(204);
      await request(s()).get(`/v1/collections/${comments}/documents/${comment}`).expect(404);
      await request(s()).delete(`/v1/collections/${orders}`).set(service).expect(204);
    });

    it('is validated with the field', async () => {
      for (const [field, message] of [
        [{ name: 'x', type: 'string', onDelete: 'cascade' }, 'applies to references to collections only'],
        [{ name: 'x', type: 'reference', collection: 'users', onDelete: 'cascade' }, 'applies to references to collections only'],
        [{ name: 'x', type: 'reference', collection: recipes, onDelete: 'setNull', required: true }, 'setNull cannot apply to a required field'],
        [{ name: 'x', type: 'reference', collection: recipes, onDelete: 'explode' }, undefined],
      ] as const) {
        const res = await request(s()).post('/v1/collections').set(service).send({ name: uniqueName('od'), fields: [field], rules: PUBLIC }).expect(400);
        expect(res.body.details[0].path).toBe('fields.0.onDelete');
        if (message) expect(res.body.details[0].message).toBe(message);
      }
    });
  });
});
