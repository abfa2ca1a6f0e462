import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '#libs/database';

/** The channel the outbox relay LISTENs on. */
export const OUTBOX_CHANNEL = 'outbox_events';

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
