import type pg from 'pg';
import type { Prisma } from '#libs/database';
import type { EventPayloads, EventType } from './event-types.js';
import { noteOutboxWrite } from './outbox-wakeup.js';

/**
 * Writes events to the outbox inside the caller's transaction, so an event exists exactly
 * when the change that caused it commits. Two forms: a Prisma interactive transaction, or a
 * pg client inside BEGIN/COMMIT (the hand-written SQL paths). Returns the event ids.
 */
export async function writeOutbox<T extends EventType>(
  tx: Prisma.TransactionClient,
  type: T,
  payload: EventPayloads[T],
): Promise<string> {
  noteOutboxWrite();
  const row = await tx.outboxEvent.create({
    data: { type, payload: payload as unknown as Prisma.InputJsonValue }, // payloads are JSON by construction
    select: { id: true },
  });
  return row.id;
}

export async function writeOutboxSql<T extends EventType>(
  client: pg.ClientBase,
  type: T,
  payload: EventPayloads[T],
): Promise<string> {
  noteOutboxWrite();
  const { rows } = await client.query<{ id: string }>(
    'INSERT INTO outbox_events (type, payload) VALUES ($1, $2::jsonb) RETURNING id',
    [type, JSON.stringify(payload)],
  );
  return rows[0]!.id;
}
