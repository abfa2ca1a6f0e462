import type pg from 'pg';
import type { Tx } from '#libs/database';
import type { EventPayloads, EventType } from './event-types.js';
import { wakeRelayOnCommit } from './outbox-wakeup.js';
import { hasSubscriberSql, subscriptionKey } from './subscriptions.js';

/**
 * The one outbox writer (two shapes of one guarded INSERT, both doing the relay's wake-up
 * bookkeeping themselves, so no caller can forget it):
 * - `writeOutbox(tx, type, payload)` inside a `withTransaction`;
 * - `outboxCte(...)` + `runWithOutbox(...)` for a write whose event rides in the same
 *   statement as the change (the document hot path: one round trip, no BEGIN/COMMIT).
 * Either way an event exists exactly when the change that caused it commits, and only when a
 * function subscribes to it (the check is part of the same statement, see hasSubscriberSql).
 */

const GUARDED_INSERT = `INSERT INTO outbox_events (type, payload) SELECT $1, $2::jsonb
  WHERE ${hasSubscriberSql('$3', '$4::text', '$5::text')} RETURNING id`;

/** Writes an event in the caller's transaction. Returns its id, or null when nothing subscribes (no row). */
export async function writeOutbox<T extends EventType>(
  tx: Tx,
  type: T,
  payload: EventPayloads[T],
): Promise<string | null> {
  const key = subscriptionKey(type, payload);
  const params = [type, JSON.stringify(payload), key.kind, key.target, key.operation];
  const { rows } = await tx.client.query<{ id: string }>(GUARDED_INSERT, params);
  const id = rows[0]?.id;
  if (id === undefined) return null;
  wakeRelayOnCommit(tx);
  return id;
}

/** The column a statement built with `outboxCte` selects: whether it wrote its event. */
const EVENTED = '__evented';

/**
 * A CTE `e` that inserts one event selected FROM `source` (a CTE of the same statement, e.g.
 * the written row), guarded like writeOutbox; `payload`, `target` and `operation` are SQL
 * expressions over `source`/parameters. Select `outboxEvented()` in the outer query and run
 * the statement with `runWithOutbox`. The event's `created_at` (the relay's order) is the
 * clock when it is written, after the statement got its row lock, not the statement's start:
 * of two writes to one row, the one that waited for the other's lock has the later event.
 */
export function outboxCte(source: string, type: EventType, payload: string, target: string, operation: string): string {
  return `e AS (
    INSERT INTO outbox_events (type, payload, created_at)
    SELECT '${type}', ${payload}, clock_timestamp() FROM ${source} WHERE ${hasSubscriberSql(`'${subscriptionKind(type)}'`, target, operation)}
    RETURNING 1
  )`;
}

/** The outer SELECT's column reporting whether `outboxCte` wrote its event. */
export function outboxEvented(): string {
  return `EXISTS (SELECT 1 FROM e) AS ${EVENTED}`;
}

/**
 * Runs a statement built with `outboxCte`, on the pool (autocommit) or in a transaction:
 * wakes the relay once it committed when it wrote an event, returns the rows without the flag.
 */
export async function runWithOutbox<R extends object>(db: pg.Pool | Tx, query: pg.QueryConfig): Promise<R[]> {
  const { rows } = await ('afterCommit' in db ? db.client : db).query<R & { [EVENTED]: boolean }>(query);
  if (rows.some((row) => row[EVENTED])) wakeRelayOnCommit(db);
  return rows.map(({ [EVENTED]: _evented, ...row }) => row as unknown as R);
}

function subscriptionKind(type: EventType): string {
  return type.slice(0, type.indexOf('.'));
}
