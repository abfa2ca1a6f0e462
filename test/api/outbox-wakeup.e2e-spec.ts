import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OUTBOX_CHANNEL } from '#libs/events';
import { defineCollection, service, uniqueName } from '../collections/support.js';
import { startApi } from '../support/app.js';
import { subscribe } from '../support/subscribers.js';
import { createUser, TEST_PASSWORD } from '../support/users.js';

describe('outbox wake-up', () => {
  let app: NestFastifyApplication;
  let listener: pg.Client;
  const notifications: string[] = [];

  beforeAll(async () => {
    app = await startApi();
    listener = new pg.Client({ connectionString: inject('databaseUrl') });
    await listener.connect();
    listener.on('notification', (n) => notifications.push(n.channel));
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
    await subscribe(app, { type: 'auth', events: ['signup'] }); // signups record events only with a subscriber
  });
  afterAll(async () => {
    await listener.end();
    await app.close();
  });

  it('a write that records an event NOTIFYs the relay after it commits; one that records none does not', async () => {
    const first = await createUser(app);
    await expect.poll(() => notifications.length, { timeout: 5_000 }).toBeGreaterThan(0);
    const before = notifications.length;
    // A login writes rows (a session, the audit log) but no outbox event: no wake-up. The
    // signup after it writes an auth.signup event: exactly one, which arrives after any
    // wake-up the login would have sent.
    await request(app.getHttpServer()).post('/v1/auth/login').send({ email: first.email, password: TEST_PASSWORD }).expect(200);
    const user = await createUser(app);
    await expect.poll(() => notifications.length, { timeout: 5_000 }).toBeGreaterThan(before);
    expect(notifications.slice(before)).toEqual([OUTBOX_CHANNEL]);

    // The event it announces is committed and visible to the relay's connection.
    const { rows } = await listener.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox_events WHERE type = 'auth.signup' AND payload->'user'->>'id' = $1",
      [user.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('document writes NOTIFY once committed, in one statement or in a transaction; reads and refused writes do not', async () => {
    const notes = await defineCollection(app, {
      name: uniqueName('wake'),
      fields: [{ name: 'title', type: 'string', required: true }],
      rules: { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' },
    });
    await subscribe(app, { type: 'db', collection: notes, events: ['create', 'update', 'delete'] });
    const http = () => request(app.getHttpServer());
    const base = `/v1/collections/${notes}/documents`;
    /** Runs `quiet` (which must not notify), then `loud` (one event); exactly one wake-up follows. */
    const onlyLoudNotifies = async (quiet: () => Promise<unknown>, loud: () => Promise<unknown>) => {
      const before = notifications.length;
      await quiet();
      await loud();
      await expect.poll(() => notifications.length, { timeout: 5_000 }).toBeGreaterThan(before);
      expect(notifications.slice(before)).toEqual([OUTBOX_CHANNEL]);
    };

    let id = '';
    // A create: one autocommit statement writes the row and its event.
    await onlyLoudNotifies(
      () => http().post(base).set(service).send({ title: 7 }).expect(400),
      async () => {
        id = (await http().post(base).send({ title: 'a' }).expect(201)).body.id as string;
      },
    );
    // A PUT: the locking path, in a transaction; the wake-up follows its COMMIT.
    await onlyLoudNotifies(
      () => http().get(`${base}/${id}`).expect(200),
      () => http().put(`${base}/${id}`).send({ title: 'b' }).expect(200),
    );
    // A PATCH and a DELETE (one statement each); a read of a list in between.
    await onlyLoudNotifies(
      () => http().get(base).expect(200),
      () => http().patch(`${base}/${id}`).send({ title: 'c' }).expect(200),
    );
    await onlyLoudNotifies(
      () => http().delete(`${base}/${randomUUID()}`).expect(404),
      () => http().delete(`${base}/${id}`).expect(204),
    );
    const { rows } = await listener.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox_events WHERE payload->>'documentId' = $1", [id]);
    expect(rows[0]!.n).toBe(4);
  });
});
