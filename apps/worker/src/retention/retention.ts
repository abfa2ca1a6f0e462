import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type pg from 'pg';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { PG_POOL } from '#libs/database';
import { FINAL_STATUSES } from '#libs/functions';
import { type JobResult, QueueName, SystemJob } from '#libs/queue';
import { deleteInChunks } from '../common/chunked-delete.js';
import { upsertSystemScheduler } from '../system/sweeps.js';

/** Rows deleted per statement, so one sweep never holds long locks or a huge transaction. */
const CHUNK = 5_000;
const SCHEDULER_ID = 'retention-sweep';

export type RetentionResult = JobResult<typeof QueueName.System, typeof SystemJob.RetentionSweep>;

/**
 * Keeps the event tables bounded: finished function runs older than FUNCTIONS_RUN_RETENTION_DAYS,
 * receipts that old whose run is gone (a run still kept keeps its receipt), and published outbox rows (the relay deletes what it
 * publishes; rows marked published by older versions are dropped here). A BullMQ job
 * scheduler on the system queue ticks every RETENTION_SWEEP_INTERVAL_MS, so however many
 * workers run, one of them sweeps per tick.
 */
@Injectable()
export class RetentionSweep implements OnApplicationBootstrap {
  private readonly logger = new Logger(RetentionSweep.name);

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @InjectQueue(QueueName.System) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await upsertSystemScheduler(this.queue, SCHEDULER_ID, this.config.RETENTION_SWEEP_INTERVAL_MS, SystemJob.RetentionSweep, this.logger);
  }

  async sweep(): Promise<RetentionResult> {
    const days = this.config.FUNCTIONS_RUN_RETENTION_DAYS;
    const runs = await this.chunked(
      `DELETE FROM function_runs WHERE id IN (
         SELECT id FROM function_runs WHERE status = ANY($1::text[]) AND created_at < now() - make_interval(days => $2) LIMIT ${CHUNK})`,
      [FINAL_STATUSES, days],
    );
    const receipts = await this.chunked(
      `DELETE FROM function_event_receipts WHERE id IN (
         SELECT e.id FROM function_event_receipts e
          WHERE e.created_at < now() - make_interval(days => $1) AND NOT EXISTS (SELECT 1 FROM function_runs r WHERE r.id = e.run_id)
          LIMIT ${CHUNK})`,
      [days],
    );
    const outbox = await this.chunked(
      `DELETE FROM outbox_events WHERE id IN (SELECT id FROM outbox_events WHERE published_at IS NOT NULL LIMIT ${CHUNK})`,
      [],
    );
    if (runs + receipts + outbox > 0) this.logger.log(`retention: deleted ${runs} runs, ${receipts} receipts, ${outbox} outbox rows`);
    return { runs, receipts, outbox };
  }

  private chunked(text: string, values: unknown[]): Promise<number> {
    return deleteInChunks(this.pool, text, values, CHUNK);
  }
}
