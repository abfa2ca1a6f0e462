import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type pg from 'pg';
import { PG_POOL, withTransaction } from '#libs/database';
import { OUTBOX_CHANNEL } from '#libs/events';
import { type OutboxJobData, QueueName } from '#libs/queue';
import { PgListener } from '../common/pg-listener.js';

const BATCH = 200;

/**
 * Moves committed outbox events into BullMQ (queue `events`, job name = event type,
 * jobId = event id), in batches: one statement claims and deletes up to BATCH rows
 * (FOR UPDATE SKIP LOCKED, so any number of workers share the work), one addBulk enqueues
 * them, and the transaction commits only after BullMQ accepted the jobs. A crash (even
 * kill -9) before the commit rolls the delete back and the rows are published again, which
 * the jobId (and, per function, the event receipts) turns into a no-op. Deleting instead
 * of marking leaves one dead tuple per event instead of two and nothing to clean up later.
 *
 * Wakes on Postgres NOTIFY (sent by the api after its writes commit, see OutboxWakeup); the
 * fallback poll is a sweep of the system queue ticked every OUTBOX_POLL_MS (system/sweeps.ts).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private running?: Promise<number>;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @InjectQueue(QueueName.Events) private readonly queue: Queue,
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

  /** Publishes up to BATCH events; returns how many. */
  publishBatch(): Promise<number> {
    return withTransaction(this.pool, async (tx) => {
      const rows = await tx.db
        .deleteFrom('outbox_events')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('outbox_events')
            .select('id')
            .where('published_at', 'is', null)
            .orderBy('created_at')
            .limit(BATCH)
            .forUpdate()
            .skipLocked(),
        )
        .returning(['id', 'type', 'payload', 'created_at'])
        .execute();
      if (rows.length > 0) {
        rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime()); // RETURNING has no order
        await this.queue.addBulk(
          rows.map((row) => ({
            name: row.type,
            data: {
              id: row.id,
              type: row.type,
              payload: row.payload as Record<string, unknown>, // written by writeOutbox as an event payload object
              createdAt: row.created_at.toISOString(),
            } satisfies OutboxJobData,
            opts: { jobId: row.id, attempts: 8, backoff: { type: 'exponential', delay: 500 } },
          })),
        );
      }
      return rows.length;
    });
  }
}
