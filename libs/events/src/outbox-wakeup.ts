import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '#libs/database';

/** The channel the outbox relay LISTENs on. */
export const OUTBOX_CHANNEL = 'outbox_events';

/** Per unit of work (an api request): did it write outbox events? */
const unitOfWork = new AsyncLocalStorage<{ wrote: boolean }>();

/** Records that the current unit of work wrote an outbox event (every outbox writer calls it). */
export function noteOutboxWrite(): void {
  const store = unitOfWork.getStore();
  if (store) store.wrote = true;
}

/** A unit of work (an api request): code run in it records whether it wrote outbox events. */
export class OutboxUnit {
  private readonly store = { wrote: false };

  run<T>(work: () => T): T {
    return unitOfWork.run(this.store, work);
  }

  get wrote(): boolean {
    return this.store.wrote;
  }
}

/**
 * Tells the outbox relay that events were committed: one `pg_notify` at a time, on its own
 * autocommit statement, so write transactions never carry a NOTIFY (which would serialise
 * their commits). Calls made while one is in flight coalesce into a single follow-up, so under
 * load there is at most one NOTIFY per round trip. Best effort: the relay also polls.
 */
@Injectable()
export class OutboxWakeup {
  private inFlight = false;
  private again = false;

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

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
