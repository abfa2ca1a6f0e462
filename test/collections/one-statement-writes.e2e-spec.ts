import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { subscribe } from '../support/subscribers.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, directPool, eventsOf, uniqueName } from './support.js';

// PATCH and DELETE run as one statement (check, merge, write, event: docs/decisions.md); these
// are the edges of that statement: concurrent writes to one row, stored values the definition
// no longer declares, acl changes, and every refusal answering as the locking path does.
describe('one-statement PATCH and DELETE', () => {
  let app: NestFastifyApplication;
  let db: pg.Pool;
  let alice: TestUser;
  let bob: TestUser;
  /** Everyone reads and updates; owners delete. */
  let shared: string;
  /** Only owners read or write. */
  let privy: string;
  const docs = (c: string, id?: string) => `/v1/collections/${c}/documents${id ? `/${id}` : ''}`;
  const fields = Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, type: 'integer' as const }));

  const timedEventsOf = async (id: string) =>
    (
      await db.query<{ payload: Record<string, unknown> & { before: Record<string, unknown> | null; after: Record<string, unknown> | null }; at: Date }>(
        `SELECT payload, created_at AS at FROM outbox_events WHERE payload->>'documentId' = $1`,
        [id],
      )
    ).rows;

  beforeAll(async () => {
    app = await startApi();
    db = directPool();
    alice = await createUser(app);
    bob = await createUser(app);
    shared = await defineCollection(app, {
      name: uniqueName('shared'),
      fields: [...fields, { name: 'code', type: 'string', unique: true }],
      rules: { list: 'public', read: 'public', create: 'authenticated', update: 'authenticated', delete: 'owner' },
    });
    privy = await defineCollection(app, {
      name: uniqueName('privy'),
      fields: [{ name: 'text', type: 'string' }],
      rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    for (const collection of [shared, privy]) await subscribe(app, { type: 'db', collection, events: ['create', 'update', 'delete'] });
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  it('concurrent PATCHes of one document all apply, with consecutive versions and one event each, in order', async () => {
    const s = app.getHttpServer();
    const created = (await request(s).post(docs(shared)).set(bearer(alice)).send({}).expect(201)).body;
    const results = await Promise.all(
      fields.map((f, i) => request(s).patch(docs(shared, created.id)).set(bearer(i % 2 ? bob : alice)).send({ [f.name]: i })),
    );
    expect(results.map((r) => r.status)).toEqual(fields.map(() => 200));
    expect(results.map((r) => r.body.version as number).sort((a, b) => a - b)).toEqual(fields.map((_, i) => i + 2));
    const final = (await request(s).get(docs(shared, created.id)).expect(200)).body;
    expect(final).toMatchObject({ version: fields.length + 1, ...Object.fromEntries(fields.map((f, i) => [f.name, i])) });

    const updates = (await timedEventsOf(created.id)).filter((e) => e.payload.operation === 'update');
    expect(updates).toHaveLength(fields.length);
    updates.sort((a, b) => (a.payload.after!.version as number) - (b.payload.after!.version as number));
    let previous: Record<string, unknown> = created;
    let previousAt = 0;
    for (const [i, { payload, at }] of updates.entries()) {
      // Each event's before is exactly the document the previous write left, and its after what that write answered.
      expect(payload.before).toEqual(previous);
      expect(payload.after!.version).toBe(i + 2);
      expect(payload.after).toEqual(results.find((r) => r.body.version === i + 2)!.body);
      // The relay's order (created_at) never puts a later version first.
      expect(at.getTime()).toBeGreaterThanOrEqual(previousAt);
      previous = payload.after!;
      previousAt = at.getTime();
    }
    expect(previous).toEqual(final);
  });

  it('merges into the stored data: keeps what the patch does not name, removes nulls, keeps undeclared stored values hidden', async () => {
    const s = app.getHttpServer();
    const created = (await request(s).post(docs(shared)).set(bearer(alice)).send({ f0: 1, f1: 2 }).expect(201)).body;
    await db.query(`UPDATE data."${shared}" SET data = data || '{"legacy": "kept"}' WHERE id = $1`, [created.id]);
    const patched = (await request(s).patch(docs(shared, created.id)).set(bearer(bob)).send({ f1: null, f2: 3 }).expect(200)).body;
    expect(patched).toMatchObject({ f0: 1, f2: 3, version: 2, ownerId: alice.id });
    expect(patched).not.toHaveProperty('f1');
    expect(patched).not.toHaveProperty('legacy');
    const stored = (await db.query(`SELECT data FROM data."${shared}" WHERE id = $1`, [created.id])).rows[0].data;
    expect(stored).toEqual({ f0: 1, f2: 3, legacy: 'kept' });
    const [, update] = await eventsOf(db, created.id);
    expect(update!.payload).toEqual({
      collection: shared,
      operation: 'update',
      documentId: created.id,
      before: created,
      after: patched,
      actor: { type: 'user', id: bob.id },
    });
  });

  it('changes the acl only for the owner, and answers refusals as before: 404, 403, 412, 409, with no event', async () => {
    const s = app.getHttpServer();
    const doc = (await request(s).post(docs(shared)).set(bearer(alice)).send({ code: 'one' }).expect(201)).body;
    const other = (await request(s).post(docs(shared)).set(bearer(alice)).send({ code: 'two' }).expect(201)).body;
    const mine = (await request(s).post(docs(privy)).set(bearer(alice)).send({ text: 'mine' }).expect(201)).body;
    const eventsBefore = (await timedEventsOf(doc.id)).length;

    const denied = await request(s).patch(docs(shared, doc.id)).set(bearer(bob)).send({ acl: { write: [`user:${bob.id}`] } }).expect(403);
    expect(denied.body.code).toBe('ACL_FORBIDDEN');
    await request(s).patch(docs(shared, doc.id)).send({ f0: 1 }).expect(401); // readable, not writable, anonymous
    await request(s).patch(docs(privy, mine.id)).set(bearer(bob)).send({ text: 'x' }).expect(404); // not readable
    await request(s).patch(docs(privy, mine.id)).set(bearer(bob)).set('if-match', '"1"').send({ text: 'x' }).expect(404);
    await request(s).patch(docs(shared, doc.id)).set(bearer(bob)).set('if-match', '"7"').send({ f0: 1 }).expect(412);
    await request(s).patch(docs(shared, doc.id)).set(bearer(bob)).set('if-match', 'nonsense').send({ f0: 1 }).expect(412);
    const taken = await request(s).patch(docs(shared, doc.id)).set(bearer(bob)).send({ code: other.code }).expect(409);
    expect(taken.body.details).toEqual([{ path: 'code', message: 'must be unique' }]);
    await request(s).delete(docs(shared, doc.id)).set(bearer(bob)).expect(403);
    await request(s).delete(docs(privy, mine.id)).set(bearer(bob)).expect(404);
    await request(s).delete(docs(shared, doc.id)).set(bearer(alice)).set('if-match', '"7"').expect(412);
    expect(await timedEventsOf(doc.id)).toHaveLength(eventsBefore);
    expect((await request(s).get(docs(shared, doc.id)).expect(200)).body).toEqual(doc);

    // The owner may close the document to others' writes; then bob may read it but not write it.
    const closed = (await request(s).patch(docs(shared, doc.id)).set(bearer(alice)).set('if-match', '"1"').send({ acl: { write: [] } }).expect(200)).body;
    expect(closed).toMatchObject({ acl: { write: [] }, version: 2 });
    await request(s).patch(docs(shared, doc.id)).set(bearer(bob)).send({ f0: 1 }).expect(403);
    await request(s).patch(docs(shared, doc.id)).set(bearer(alice)).set('if-match', '*').send({ f0: 2 }).expect(200);

    const last = (await request(s).get(docs(shared, doc.id)).expect(200)).body;
    await request(s).delete(docs(shared, doc.id)).set(bearer(alice)).set('if-match', `"${last.version}"`).expect(204);
    await request(s).delete(docs(shared, doc.id)).set(bearer(alice)).expect(404);
    const events = await eventsOf(db, doc.id);
    expect(events.map((e) => e.payload.operation)).toEqual(['create', 'update', 'update', 'delete']);
    expect(events[3]!.payload).toEqual({ collection: shared, operation: 'delete', documentId: doc.id, before: last, after: null, actor: { type: 'user', id: alice.id } });
  });
});

