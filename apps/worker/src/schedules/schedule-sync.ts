import { createHash } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { type Db, KYSELY } from '#libs/database';
import { EventsJob, QueueName } from '#libs/queue';
import { PgListener } from '../common/pg-listener.js';
import { Sweeps } from '../system/sweeps.js';

const PREFIX = 'fn-';
const RESYNC_MS = 60_000;

interface ScheduleRow {
  function_id: string;
  cron: string;
  timezone: string | null;
}

/**
 * Keeps BullMQ's job schedulers (queue `events`, job `schedule.tick`) equal to the schedule
 * triggers in Postgres, the source of truth: at worker start, on every trigger change
 * (NOTIFY functions_changed) and every minute, so a Redis flush loses no schedule. A
 * scheduler's id is derived from function, cron and time zone; BullMQ makes one job per
 * tick per scheduler, so a tick runs once however many workers sync. The minute's resync
 * is the one timer every worker keeps (a flushed Redis has no scheduler left to tick it),
 * and it restores the sweeps' schedulers too (system/sweeps.ts).
 */
@Injectable()
export class ScheduleSync implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ScheduleSync.name);
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    @Inject(KYSELY) private readonly db: Db,
    @InjectQueue(QueueName.Events) private readonly queue: Queue,
    private readonly listener: PgListener,
    private readonly sweeps: Sweeps,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.sync();
    await this.listener.on('functions_changed', () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.sync(), 50);
    });
    this.timer = setInterval(() => void this.sync(true), RESYNC_MS);
    this.timer.unref();
  }

  /** Stops before the pools and queues close (their onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    await this.running;
  }

  /** One sync at a time; a request during a sync runs after it. `withSweeps`: the sweeps' schedulers too. */
  sync(withSweeps = false): Promise<void> {
    this.running = this.running.then(async () => {
      if (!this.stopped) await this.syncOnce();
      if (withSweeps && !this.stopped) await this.sweeps.schedule();
    });
    return this.running;
  }

  private async syncOnce(): Promise<void> {
    try {
      const rows = await this.db.selectFrom('function_triggers').select(['function_id', 'cron', 'timezone']).where('type', '=', 'schedule').execute();
      // A schedule trigger always has its cron (triggerRow in the api writes it).
      const schedules = rows.flatMap((r): ScheduleRow[] => (r.cron === null ? [] : [{ ...r, cron: r.cron }]));
      const desired = new Map(schedules.map((r) => [schedulerId(r), r]));
      const existing = await this.queue.getJobSchedulers(0, -1);
      const present = new Set<string>();
      for (const s of existing) {
        const id = s.id ?? s.key;
        if (!id.startsWith(PREFIX)) continue;
        if (desired.has(id)) present.add(id);
        else await this.queue.removeJobScheduler(id);
      }
      for (const [id, row] of desired) {
        if (present.has(id)) continue;
        await this.queue.upsertJobScheduler(
          id,
          { pattern: row.cron, tz: row.timezone ?? 'UTC' },
          {
            name: EventsJob.ScheduleTick,
            data: { functionId: row.function_id },
            opts: { attempts: 5, backoff: { type: 'exponential', delay: 500 } },
          },
        );
      }
    } catch (err) {
      this.logger.warn(`schedule sync: ${(err as Error).message}`);
    }
  }
}

function schedulerId(row: ScheduleRow): string {
  const hash = createHash('sha256').update(`${row.cron}\n${row.timezone ?? 'UTC'}`).digest('hex').slice(0, 16);
  return `${PREFIX}${row.function_id}-${hash}`;
}
