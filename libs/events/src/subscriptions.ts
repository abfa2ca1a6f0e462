import type { EventPayloads, EventType } from './event-types.js';

/** The trigger an event is subscribed through: `function_triggers` (type, target, events). */
export interface SubscriptionKey {
  kind: 'db' | 'storage' | 'auth';
  /** Collection or bucket; null for auth events. */
  target: string | null;
  operation: string;
}

/** Which triggers listen to an event of this type and payload. */
export function subscriptionKey<T extends EventType>(type: T, payload: EventPayloads[T]): SubscriptionKey {
  switch (type) {
    case 'db.change': {
      const p = payload as EventPayloads['db.change'];
      return { kind: 'db', target: p.collection, operation: p.operation };
    }
    case 'storage.change': {
      const p = payload as EventPayloads['storage.change'];
      return { kind: 'storage', target: p.bucket, operation: p.operation };
    }
    case 'auth.identity':
      return { kind: 'auth', target: null, operation: (payload as EventPayloads['auth.identity']).operation };
    case 'auth.mfa':
      return { kind: 'auth', target: null, operation: (payload as EventPayloads['auth.mfa']).operation };
    default:
      return { kind: 'auth', target: null, operation: 'signup' };
  }
}

/**
 * SQL condition: some function has a trigger for this event. Every outbox insert is
 * guarded by it IN THE SAME STATEMENT as the change, so the subscription set is read from
 * the same snapshot the write runs in (READ COMMITTED: taken when the statement starts).
 * A write whose statement starts after a deploy committed sees the new trigger; one that
 * finds no trigger writes no outbox row and causes no queue work at all. Arguments are SQL
 * expressions (bound parameters or literals), never user text.
 */
export function hasSubscriberSql(kind: string, target: string, operation: string): string {
  return `EXISTS (SELECT 1 FROM function_triggers t WHERE t.type = ${kind} AND t.target IS NOT DISTINCT FROM ${target} AND ${operation} = ANY(t.events))`;
}
