import { Inject, Injectable, Logger } from '@nestjs/common';
import { sql } from 'kysely';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { type Db, KYSELY } from '#libs/database';
import { FINAL_STATUSES } from '#libs/functions';
import type { JobResult, QueueName, SystemJob } from '#libs/queue';
import { deleteInChunks } from '../common/chunked-delete.js';

/** Rows deleted per statement, so one sweep never holds long locks or a huge transaction. */
const CHUNK = 5_000;
/** Guests deleted per statement (each takes its sessions and tokens along). */
const GUEST_CHUNK = 1_000;

export type RetentionResult = JobResult<typeof QueueName.System, typeof SystemJob.RetentionSweep>;
export type GuestCleanupResult = JobResult<typeof QueueName.System, typeof SystemJob.GuestCleanup>;

/**
 * Keeps tables bounded. Two sweeps, each a job of the system queue ticked every
 * RETENTION_SWEEP_INTERVAL_MS by its job scheduler (system/sweeps.ts), so however many
 * workers run, one of them sweeps per tick:
 * - `sweep()`: finished function runs older than FUNCTIONS_RUN_RETENTION_DAYS, receipts that
 *   old whose run is gone (a run still kept keeps its receipt), and published outbox rows
 *   (the relay deletes what it publishes; rows marked published by older versions go here);
 * - `sweepGuests()`: abandoned guests, anonymous users created more than
 *   AUTH_GUEST_RETENTION_HOURS ago none of whose sessions was refreshed within that time (an
 *   app in use refreshes its access token every JWT_ACCESS_TTL_SECONDS). Their sessions and
 *   tokens go with them (foreign keys); documents and files they owned stay, as for any
 *   deleted account (docs/auth.md).
 */
@Injectable()
export class RetentionSweep {
  private readonly logger = new Logger(RetentionSweep.name);

  constructor(
    @Inject(KYSELY) private readonly db: Db,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async sweep(): Promise<RetentionResult> {
    const before = sql<Date>`now() - make_interval(days => ${this.config.FUNCTIONS_RUN_RETENTION_DAYS})`;
    const expiredRuns = this.db.selectFrom('function_runs').select('id').where('status', 'in', FINAL_STATUSES).where('created_at', '<', before);
    const orphanReceipts = this.db
      .selectFrom('function_event_receipts as e')
      .select('e.id')
      .where('e.created_at', '<', before)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('function_runs as r').select('r.id').whereRef('r.id', '=', 'e.run_id'))));
    const publishedOutbox = this.db.selectFrom('outbox_events').select('id').where('published_at', 'is not', null);
    const runs = await deleteInChunks(this.db, 'function_runs', expiredRuns.limit(CHUNK), CHUNK);
    const receipts = await deleteInChunks(this.db, 'function_event_receipts', orphanReceipts.limit(CHUNK), CHUNK);
    const outbox = await deleteInChunks(this.db, 'outbox_events', publishedOutbox.limit(CHUNK), CHUNK);
    if (runs + receipts + outbox > 0) this.logger.log(`retention: deleted ${runs} runs, ${receipts} receipts, ${outbox} outbox rows`);
    return { runs, receipts, outbox };
  }

  async sweepGuests(): Promise<GuestCleanupResult> {
    const since = sql<Date>`now() - make_interval(hours => ${this.config.AUTH_GUEST_RETENTION_HOURS})`;
    const abandoned = this.db
      .selectFrom('users as u')
      .select('u.id')
      .where('u.is_anonymous', '=', true)
      .where('u.created_at', '<', since)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('sessions as s').select('s.id').whereRef('s.user_id', '=', 'u.id').where('s.last_used_at', '>=', since))));
    const guests = await deleteInChunks(this.db, 'users', abandoned.limit(GUEST_CHUNK), GUEST_CHUNK);
    if (guests > 0) this.logger.log(`guest cleanup: deleted ${guests} abandoned guests`);
    return { guests };
  }
}
