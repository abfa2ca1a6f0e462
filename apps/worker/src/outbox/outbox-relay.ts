import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type pg from 'pg';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { PG_POOL } from '#libs/database';
import { OUTBOX_CHANNEL } from '#libs/events';
import { type OutboxJobData, QueueName } from '#libs/queue';
import { PgListener } from '../common/pg-listener.js';

const BATCH = 200;

interface OutboxRow {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

/**
 * Moves committed outbox events into BullMQ (queue `events`, job name = event type,
 * jobId = event id), in batches: one statement claims and deletes up to BATCH rows
 * (FOR UPDATE SKIP LOCKED, so any number of workers share the work), one addBulk enqueues
 * them, and the transaction commits only after BullMQ accepted the jobs. A crash (even
 * kill -9) before the commit rolls the delete back and the rows are published again, which
 * the jobId (and, per function, the event receipts) turns into a no-op. Deleting instead
 * of marking leaves one dead tuple per event instead of two and nothing to clean up later.
 *
 * Wakes on Postgres NOTIFY (sent by the api after its writes commit, see OutboxWakeup) and
 * polls every OUTBOX_POLL_MS too.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private timers: NodeJS.Timeout[] = [];
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @InjectQueue(QueueName.Events) private readonly queue: Queue,
    private readonly listener: PgListener,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listener.on(OUTBOX_CHANNEL, () => this.kick());
    this.timers.push(setInterval(() => this.kick(), this.config.OUTBOX_POLL_MS));
    this.kick();
  }

  /** Stops before the pools and queues close (their onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
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

  private async drain(): Promise<void> {
    try {
      let published: number;
      do {
        this.again = false;
        published = await this.publishBatch();
      } while (!this.stopped && (published === BATCH || this.again));
    } catch (err) {
      this.logger.warn(`outbox relay: ${(err as Error).message}; retrying on the next poll`);
    }
  }

  /** Publishes up to BATCH events; returns how many. */
  async publishBatch(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<OutboxRow>(
        `DELETE FROM outbox_events WHERE id IN (
           SELECT id FROM outbox_events WHERE published_at IS NULL ORDER BY created_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED
         ) RETURNING id, type, payload, created_at`,
      );
      if (rows.length > 0) {
        rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime()); // RETURNING has no order
        await this.queue.addBulk(
          rows.map((row) => ({
            name: row.type,
            data: { id: row.id, type: row.type, payload: row.payload, createdAt: row.created_at.toISOString() } satisfies OutboxJobData,
            opts: { jobId: row.id, attempts: 8, backoff: { type: 'exponential', delay: 500 } },
          })),
        );
      }
      await client.query('COMMIT');
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
