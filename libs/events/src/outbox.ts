import type pg from 'pg';
import type { Prisma } from '#libs/database';
import type { EventPayloads, EventType } from './event-types.js';
import { noteOutboxWrite } from './outbox-wakeup.js';
import { hasSubscriberSql, subscriptionKey } from './subscriptions.js';

const GUARDED_INSERT = `INSERT INTO outbox_events (type, payload) SELECT $1, $2::jsonb
  WHERE ${hasSubscriberSql('$3', '$4::text', '$5::text')} RETURNING id`;

/**
 * Writes an event to the outbox inside the caller's transaction, so an event exists exactly
 * when the change that caused it commits, and only when a function subscribes to it (the
 * check is part of the same statement, see hasSubscriberSql). Two forms: a Prisma
 * interactive transaction, or a pg client inside BEGIN/COMMIT (the hand-written SQL paths).
 * Returns the event id, or null when nothing subscribes (no row written).
 */
export async function writeOutbox<T extends EventType>(
  tx: Prisma.TransactionClient,
  type: T,
  payload: EventPayloads[T],
): Promise<string | null> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(GUARDED_INSERT, ...guardedParams(type, payload));
  return noted(rows[0]?.id);
}

export async function writeOutboxSql<T extends EventType>(
  client: pg.ClientBase,
  type: T,
  payload: EventPayloads[T],
): Promise<string | null> {
  const { rows } = await client.query<{ id: string }>(GUARDED_INSERT, guardedParams(type, payload));
  return noted(rows[0]?.id);
}

function guardedParams<T extends EventType>(type: T, payload: EventPayloads[T]): [string, string, string, string | null, string] {
  const key = subscriptionKey(type, payload);
  return [type, JSON.stringify(payload), key.kind, key.target, key.operation];
}

function noted(id: string | undefined): string | null {
  if (id === undefined) return null;
  noteOutboxWrite();
  return id;
}
