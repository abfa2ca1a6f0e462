import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, Inject } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL, prepare, withTransaction } from '#libs/database';
import { OUTBOX_CHANNEL } from '#libs/events';
import type { RunJobSpec } from '#libs/functions';
import { FanOut } from '../functions/fan-out.js';
import { PgListener } from '../common/pg-listener.js';

const BATCH = 200;

/** Claims and deletes up to BATCH unpublished events, oldest first, skipping rows another worker holds. */
const CLAIM = prepare((db) =>
  db
    .deleteFrom('outbox_events')
    .where('id', 'in', (eb) =>
      eb.selectFrom('outbox_events').select('id').where('published_at', 'is', null).orderBy('created_at').limit(BATCH).forUpdate().skipLocked(),
    )
    .returning(['id', 'type', 'payload', 'created_at']),
);

/**
 * Turns committed outbox events into function runs, in batches: one transaction claims and
 * deletes up to BATCH rows (FOR UPDATE SKIP LOCKED, so any number of workers share the
 * work), looks up the functions subscribed to them and creates one run per event and
 * function with its receipt (FanOut); after the commit, one addBulk adds the runs' jobs.
 * - A crash (even kill -9) before the commit rolls everything back: the rows are claimed
 *   again, and no run or receipt of them exists.
 * - A crash between the commit and the addBulk (or Redis refusing it) leaves the runs
 *   `queued` without a job: the run sweeper (every minute) enqueues runs queued for longer
 *   than a minute, so they run late but run, once (receipts; jobId = run id).
 * There is no queue hop per event (until issue 14 an `events` job per event did the
 * fan-out); deleting instead of marking leaves one dead tuple per event and nothing to clean up.
 *
 * Wakes on Postgres NOTIFY (sent after a write's event commits: libs/events/src/outbox-wakeup.ts);
 * the fallback poll is a sweep of the system queue ticked every OUTBOX_POLL_MS (system/sweeps.ts).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private running?: Promise<number>;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly fanOut: FanOut,
    private readonly listener: PgListener,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listener.on(OUTBOX_CHANNEL, () => this.kick());
    this.kick();
  }

  /** Stops before the pools and queues close (their onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Starts a drain, or asks the running one to look again when it is done. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  /** The fallback poll (a scheduler tick): drains now, or joins the drain under way; how many it published. */
  async poll(): Promise<number> {
    this.kick();
    return (await this.running) ?? 0;
  }

  private async drain(): Promise<number> {
    let total = 0;
    try {
      let published: number;
      do {
        this.again = false;
        published = await this.publishBatch();
        total += published;
      } while (!this.stopped && (published === BATCH || this.again));
    } catch (err) {
      this.logger.warn(`outbox relay: ${(err as Error).message}; retrying on the next poll`);
    }
    return total;
  }

  /** Publishes up to BATCH events (their runs created, then enqueued); returns how many. */
  async publishBatch(): Promise<number> {
    const { claimed, jobs } = await withTransaction(this.pool, async (tx): Promise<{ claimed: number; jobs: RunJobSpec[] }> => {
      const rows = await CLAIM.run(tx.client, {});
      rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime()); // RETURNING has no order
      // payload: written by writeOutbox as an event payload object
      const events = rows.map((row) => ({ id: row.id, type: row.type, payload: row.payload as Record<string, unknown> }));
      return { claimed: rows.length, jobs: await this.fanOut.createRuns(tx.client, events) };
    });
    try {
      await this.fanOut.enqueue(jobs);
    } catch (err) {
      this.logger.warn({ msg: 'outbox relay: runs created but not enqueued; the run sweeper enqueues them', runs: jobs.length, error: (err as Error).message });
    }
    return claimed;
  }
}
