import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OUTBOX_CHANNEL } from '#libs/events';
import { startApi } from '../support/app.js';
import { createUser } from '../support/users.js';

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
  });
  afterAll(async () => {
    await listener.end();
    await app.close();
  });

  it('a write through the api NOTIFYs the relay after its transaction commits', async () => {
    const before = notifications.length;
    const user = await createUser(app); // signup writes an auth.signup event
    await expect.poll(() => notifications.length, { timeout: 5_000 }).toBeGreaterThan(before);
    expect(notifications.at(-1)).toBe(OUTBOX_CHANNEL);

    // The event it announces is committed and visible to the relay's connection.
    const { rows } = await listener.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox_events WHERE type = 'auth.signup' AND payload->'user'->>'id' = $1",
      [user.id],
    );
    expect(rows[0]!.n).toBe(1);
  });
});
