import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { QueueName, type SweepJob, SystemJob } from '#libs/queue';
import { EmailSweeper } from '../email/email-sweeper.js';
import { RunSweeper } from '../functions/run-sweeper.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { RetentionSweep } from '../retention/retention.js';

/**
 * A periodic sweep of the worker: a job of the system queue ticked by a BullMQ job scheduler,
 * so however many workers run, one of them takes each tick, and no worker
 * keeps a timer of its own for it.
 */
export interface Sweep {
  /** The job scheduler's id (one per sweep, whichever worker upserts it). */
  readonly id: string;
  readonly job: SweepJob;
  /** The tick interval; 0 switches the sweep off (its scheduler is removed). */
  readonly everyMs: number;
  run(): Promise<unknown>;
}

/** The worker's sweeps, and the one place their schedulers are registered. */
@Injectable()
export class Sweeps {
  private readonly logger = new Logger(Sweeps.name);
  readonly all: readonly Sweep[];

  constructor(
    retention: RetentionSweep,
    relay: OutboxRelay,
    runs: RunSweeper,
    emails: EmailSweeper,
    @InjectQueue(QueueName.System) private readonly queue: Queue,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.all = [
      { id: 'retention-sweep', job: SystemJob.RetentionSweep, everyMs: config.RETENTION_SWEEP_INTERVAL_MS, run: () => retention.sweep() },
      { id: 'guest-cleanup', job: SystemJob.GuestCleanup, everyMs: config.RETENTION_SWEEP_INTERVAL_MS, run: () => retention.sweepGuests() },
      { id: 'outbox-poll', job: SystemJob.OutboxPoll, everyMs: config.OUTBOX_POLL_MS, run: async () => ({ published: await relay.poll() }) },
      { id: 'run-sweep', job: SystemJob.RunSweep, everyMs: 60_000, run: async () => ({ enqueued: await runs.sweep() }) },
      { id: 'email-sweep', job: SystemJob.EmailSweep, everyMs: config.EMAIL_SWEEP_INTERVAL_MS, run: async () => ({ enqueued: await emails.sweep() }) },
    ];
  }

  find(job: string): Sweep | undefined {
    return this.all.find((s) => s.job === job);
  }

  /**
   * Registers (or removes) the job scheduler of each sweep; one already registered with the
   * same interval is left alone (its next tick stays). Every worker does this at start, and
   * again on ScheduleSync's resync, so a Redis flush loses no sweep. A failure (Redis down)
   * is logged, not fatal.
   */
  async schedule(): Promise<void> {
    for (const sweep of this.all) {
      try {
        const current = await this.queue.getJobScheduler(sweep.id);
        if (sweep.everyMs === 0) {
          if (current) await this.queue.removeJobScheduler(sweep.id);
        } else if (current?.every !== sweep.everyMs) {
          await this.queue.upsertJobScheduler(
            sweep.id,
            { every: sweep.everyMs },
            { name: sweep.job, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
          );
        }
      } catch (err) {
        this.logger.warn(`${sweep.id} scheduler: ${(err as Error).message}`);
      }
    }
  }
}
