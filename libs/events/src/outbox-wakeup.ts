import type pg from 'pg';
import type { Tx } from '#libs/database';

/** The channel the outbox relay LISTENs on. */
export const OUTBOX_CHANNEL = 'outbox_events';

/**
 * Tells the outbox relay that events were committed: one `pg_notify` at a time, on its own
 * autocommit statement, so write transactions never carry a NOTIFY (which would serialise
 * their commits). Calls made while one is in flight coalesce into a single follow-up, so under
 * load there is at most one NOTIFY per round trip. Best effort: the relay also polls.
 */
class RelayWaker {
  private inFlight = false;
  private again = false;

  constructor(private readonly pool: pg.Pool) {}

  wake(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    this.pool
      .query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, ''])
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }
}

/** One waker per pool (per database), made when its first event is written. */
const wakers = new WeakMap<pg.Pool, RelayWaker>();

function wakerOf(pool: pg.Pool): RelayWaker {
  let waker = wakers.get(pool);
  if (!waker) {
    waker = new RelayWaker(pool);
    wakers.set(pool, waker);
  }
  return waker;
}

/**
 * Wakes the outbox relay once an event written on `on` is committed: after the transaction's
 * COMMIT (never after a ROLLBACK), or now for an autocommit statement on the pool, which
 * has committed when it returns. Every outbox writer calls it (outbox.ts), so no write path
 * can forget it, and requests that write no event pay nothing.
 */
export function wakeRelayOnCommit(on: pg.Pool | Tx): void {
  if ('afterCommit' in on) on.afterCommit(() => wakerOf(on.pool).wake());
  else wakerOf(on).wake();
}
