import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type pg from 'pg';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { PG_POOL } from '#libs/database';
import { type JobResult, QueueName, SystemJob } from '#libs/queue';
import { deleteInChunks } from '../common/chunked-delete.js';
import { upsertSystemScheduler } from '../system/sweeps.js';

/** Guests deleted per statement, so one sweep never holds long locks. */
const CHUNK = 1_000;
const SCHEDULER_ID = 'guest-cleanup';

export type GuestCleanupResult = JobResult<typeof QueueName.System, typeof SystemJob.GuestCleanup>;

/**
 * Deletes abandoned guests: anonymous users created more than AUTH_GUEST_RETENTION_HOURS ago
 * none of whose sessions was refreshed within that time (an app in use refreshes its access
 * token every JWT_ACCESS_TTL_SECONDS). Their sessions and tokens go with them (foreign keys);
 * documents and files they owned stay, as for any deleted account (docs/auth.md). A BullMQ
 * job scheduler on the system queue ticks every RETENTION_SWEEP_INTERVAL_MS, like the
 * retention sweep, so one worker cleans per tick however many run.
 */
@Injectable()
export class GuestCleanup implements OnApplicationBootstrap {
  private readonly logger = new Logger(GuestCleanup.name);

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @InjectQueue(QueueName.System) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await upsertSystemScheduler(this.queue, SCHEDULER_ID, this.config.RETENTION_SWEEP_INTERVAL_MS, SystemJob.GuestCleanup, this.logger);
  }

  async sweep(): Promise<GuestCleanupResult> {
    const hours = this.config.AUTH_GUEST_RETENTION_HOURS;
    const guests = await deleteInChunks(
      this.pool,
      `DELETE FROM users WHERE id IN (
         SELECT u.id FROM users u
          WHERE u.is_anonymous AND u.created_at < now() - make_interval(hours => $1)
            AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id AND s.last_used_at >= now() - make_interval(hours => $1))
          LIMIT ${CHUNK})`,
      [hours],
      CHUNK,
    );
    if (guests > 0) this.logger.log(`guest cleanup: deleted ${guests} abandoned guests`);
    return { guests };
  }
}
