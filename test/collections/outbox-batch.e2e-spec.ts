import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { subscribe } from '../support/subscribers.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, directPool, eventsOf, service, uniqueName } from './support.js';

describe('change events (outbox) and batches', () => {
  let app: NestFastifyApplication;
  let db: pg.Pool;
  let alice: TestUser;
  let bob: TestUser;
  let notes: string;
  const docs = (id?: string) => `/v1/collections/${notes}/documents${id ? `/${id}` : ''}`;

  const eventsOfCollection = async (collection: string) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_events WHERE type = 'db.change' AND payload->>'collection' = $1`, [collection])).rows[0]!.n;
  const rowsOf = async (collection: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM data."${collection}"`)).rows[0]!.n;

  beforeAll(async () => {
    app = await startApi();
    db = directPool();
    alice = await createUser(app);
    bob = await createUser(app);
    notes = await defineCollection(app, {
      name: uniqueName('notes'),
      fields: [
        { name: 'text', type: 'string', required: true },
        { name: 'code', type: 'string', unique: true },
      ],
      rules: { list: 'owner', read: 'owner', create: 'public', update: 'owner', delete: 'owner' },
    });
    // Events are recorded only for collections a function subscribes to (test/feed covers the unsubscribed case).
    await subscribe(app, { type: 'db', collection: notes, events: ['create', 'update', 'delete'] });
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  it('every committed create, update and delete writes one event with before, after and actor', async () => {
    const s = app.getHttpServer();
    const created = (await request(s).post(docs()).set(bearer(alice)).send({ text: 'one' }).expect(201)).body;
    const updated = (await request(s).patch(docs(created.id)).set(bearer(alice)).send({ text: 'two' }).expect(200)).body;
    const replaced = (await request(s).put(docs(created.id)).set(service).send({ text: 'three' }).expect(200)).body;
    await request(s).delete(docs(created.id)).set(bearer(alice)).expect(204);
    const events = await eventsOf(db, created.id);
    expect(events).toEqual([
      { type: 'db.change', payload: { collection: notes, operation: 'create', documentId: created.id, before: null, after: created, actor: { type: 'user', id: alice.id } } },
      { type: 'db.change', payload: { collection: notes, operation: 'update', documentId: created.id, before: created, after: updated, actor: { type: 'user', id: alice.id } } },
      { type: 'db.change', payload: { collection: notes, operation: 'update', documentId: created.id, before: updated, after: replaced, actor: { type: 'service', keyId: 'bootstrap' } } },
      { type: 'db.change', payload: { collection: notes, operation: 'delete', documentId: created.id, before: replaced, after: null, actor: { type: 'user', id: alice.id } } },
    ]);
    const anon = (await request(s).post(docs()).send({ text: 'anon' }).expect(201)).body;
    expect((await eventsOf(db, anon.id))[0]!.payload.actor).toEqual({ type: 'anonymous' });
  });

  it('a refused write emits nothing', async () => {
    const s = app.getHttpServer();
    const doc = (await request(s).post(docs()).set(bearer(alice)).send({ text: 'x', code: 'taken' }).expect(201)).body;
    const before = await eventsOfCollection(notes);
    await request(s).patch(docs(doc.id)).set(bearer(alice)).set('if-match', '"9"').send({ text: 'y' }).expect(412);
    await request(s).patch(docs(doc.id)).set(bearer(bob)).send({ text: 'y' }).expect(404);
    await request(s).patch(docs(doc.id)).set(bearer(alice)).send({ text: 5 }).expect(400);
    await request(s).delete(docs(doc.id)).set(bearer(bob)).expect(404);
    await request(s).post(docs()).set(bearer(alice)).send({ text: 'dup', code: 'taken' }).expect(409);
    expect(await eventsOfCollection(notes)).toBe(before);
    expect(await eventsOf(db, doc.id)).toHaveLength(1);
  });

  describe('POST /batch', () => {
    it('without a transaction, runs each operation on its own with its own result', async () => {
      const s = app.getHttpServer();
      const mine = (await request(s).post(docs()).set(bearer(alice)).send({ text: 'mine' }).expect(201)).body;
      const theirs = (await request(s).post(docs()).set(bearer(bob)).send({ text: 'theirs' }).expect(201)).body;
      const res = await request(s)
        .post('/v1/batch')
        .set(bearer(alice))
        .send({
          operations: [
            { op: 'create', collection: notes, data: { text: 'b1' } },
            { op: 'create', collection: notes, data: { nope: 1 } },
            { op: 'get', collection: notes, id: mine.id },
            { op: 'get', collection: notes, id: theirs.id },
            { op: 'update', collection: notes, id: mine.id, data: { text: 'changed' }, ifMatch: 1 },
            { op: 'update', collection: notes, id: mine.id, data: { text: 'stale' }, ifMatch: 1 },
            { op: 'delete', collection: notes, id: theirs.id },
            { op: 'get', collection: 'no_such_collection', id: mine.id },
          ],
        })
        .expect(200);
      const results = res.body.results as { status: number; document?: { id: string; text: string }; error?: { code: string } }[];
      expect(results.map((r) => r.status)).toEqual([201, 400, 200, 404, 200, 412, 404, 404]);
      expect(results[1]!.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'nope' }, { path: 'text' }] });
      expect(results[2]!.document).toMatchObject({ id: mine.id, text: 'mine' });
      expect(results[3]!.error).toEqual({ code: 'DOCUMENT_NOT_FOUND', message: 'The document was not found' });
      expect(results[4]!.document).toMatchObject({ text: 'changed', version: 2 });
      expect(results[7]!.error!.code).toBe('COLLECTION_NOT_FOUND');
      expect(await eventsOf(db, results[0]!.document!.id)).toHaveLength(1);
      expect(await eventsOf(db, mine.id)).toHaveLength(2);
      expect(await eventsOf(db, theirs.id)).toHaveLength(1); // not deleted
      await request(s).get(docs(theirs.id)).set(bearer(bob)).expect(200);
    });

    it('with transaction: true, applies everything and emits an event per write', async () => {
      const s = app.getHttpServer();
      const doc = (await request(s).post(docs()).set(bearer(alice)).send({ text: 'tx' }).expect(201)).body;
      const res = await request(s)
        .post('/v1/batch')
        .set(bearer(alice))
        .send({
          transaction: true,
          operations: [
            { op: 'create', collection: notes, data: { text: 'a' } },
            { op: 'replace', collection: notes, id: doc.id, data: { text: 'b' } },
            { op: 'get', collection: notes, id: doc.id },
          ],
        })
        .expect(200);
      expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([201, 200, 200]);
      expect(res.body.results[2].document).toMatchObject({ text: 'b', version: 2 }); // reads see the batch's own writes
      expect(await eventsOf(db, res.body.results[0].document.id)).toHaveLength(1);
      expect(await eventsOf(db, doc.id)).toHaveLength(2);
    });

    it('with transaction: true, one failure rolls everything back: no document, no change, no event', async () => {
      const s = app.getHttpServer();
      const doc = (await request(s).post(docs()).set(bearer(alice)).send({ text: 'keep', code: 'k1' }).expect(201)).body;
      await request(s).post(docs()).set(bearer(bob)).send({ text: 'holds k2', code: 'k2' }).expect(201);
      const second = (await request(s).post(docs()).set(bearer(alice)).send({ text: 'second' }).expect(201)).body;
      const rows = await rowsOf(notes);
      const events = await eventsOfCollection(notes);
      const failing: [unknown, number, string, string][] = [
        [{ op: 'create', collection: notes, data: { text: 'x', code: 'k2' } }, 409, 'CONFLICT', 'operations.3.code'],
        [{ op: 'update', collection: notes, id: second.id, data: { text: 'x' }, ifMatch: 7 }, 412, 'PRECONDITION_FAILED', 'operations.3'],
        [{ op: 'create', collection: notes, data: { text: 3 } }, 400, 'VALIDATION_FAILED', 'operations.3.text'],
        [{ op: 'delete', collection: notes, id: '00000000-0000-4000-8000-000000000000' }, 404, 'DOCUMENT_NOT_FOUND', 'operations.3'],
      ];
      for (const [last, status, code, path] of failing) {
        const res = await request(s)
          .post('/v1/batch')
          .set(bearer(alice))
          .send({
            transaction: true,
            operations: [
              { op: 'create', collection: notes, data: { text: 'rolled back' } },
              { op: 'update', collection: notes, id: doc.id, data: { text: 'rolled back' } },
              { op: 'delete', collection: notes, id: doc.id },
              last,
            ],
          });
        expect({ status: res.status, code: res.body.code, path: res.body.details?.[0]?.path }).toEqual({ status, code, path });
        expect(res.body.message).toMatch(/^Operation 3 failed, nothing was applied/);
      }
      expect(await rowsOf(notes)).toBe(rows);
      expect(await eventsOfCollection(notes)).toBe(events);
      const still = await request(s).get(docs(doc.id)).set(bearer(alice)).expect(200);
      expect(still.body).toMatchObject({ text: 'keep', version: 1 });
      const found = await request(s).get(docs()).set(bearer(alice)).query({ filter: JSON.stringify({ text: 'rolled back' }), count: 'true' }).expect(200);
      expect(found.body.count).toBe(0);
    });

    it('checks permissions per operation exactly as the single routes do', async () => {
      const s = app.getHttpServer();
      const alices = (await request(s).post(docs()).set(bearer(alice)).send({ text: 'private' }).expect(201)).body;
      const res = await request(s)
        .post('/v1/batch')
        .set(bearer(bob))
        .send({ transaction: true, operations: [{ op: 'create', collection: notes, data: { text: 'bob' } }, { op: 'update', collection: notes, id: alices.id, data: { text: 'hacked' } }] })
        .expect(404);
      expect(res.body.code).toBe('DOCUMENT_NOT_FOUND');
      const anon = await request(s).post('/v1/batch').send({ operations: [{ op: 'get', collection: notes, id: alices.id }] }).expect(200);
      expect(anon.body.results).toEqual([{ status: 404, error: { code: 'DOCUMENT_NOT_FOUND', message: 'The document was not found' } }]);
      expect((await request(s).get(docs(alices.id)).set(bearer(alice)).expect(200)).body.text).toBe('private');
    });

    it('bounds the number of operations and validates their shape', async () => {
      const s = app.getHttpServer();
      const op = { op: 'get', collection: notes, id: '00000000-0000-4000-8000-000000000000' };
      await request(s).post('/v1/batch').send({ operations: Array.from({ length: 101 }, () => op) }).expect(400);
      await request(s).post('/v1/batch').send({ operations: Array.from({ length: 100 }, () => op) }).expect(200);
      await request(s).post('/v1/batch').send({ operations: [] }).expect(400);
      await request(s).post('/v1/batch').send({ operations: [{ op: 'drop', collection: notes }] }).expect(400);
      await request(s).post('/v1/batch').send({ operations: [{ ...op, collection: 'x; DROP TABLE users' }] }).expect(400);
    });
  });
});
