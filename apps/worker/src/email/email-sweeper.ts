import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { PrismaService } from '#libs/database';
import { type EmailQueue, EmailStatus, enqueueEmail } from '#libs/mail';
import { QueueName } from '#libs/queue';

/**
 * Re-enqueues `queued` emails whose job is missing: the api crashed between commit and
 * enqueue, Redis was unreachable at that moment (dispatch gave up), or Redis lost its data.
 * A job of the system queue ticked every EMAIL_SWEEP_INTERVAL_MS by its job scheduler
 * (system/sweeps.ts; 0 switches it off); jobId = message id makes a message enqueued twice
 * harmless. Rows younger than one interval are left to their normal dispatch.
 */
@Injectable()
export class EmailSweeper {
  private readonly logger = new Logger(EmailSweeper.name);

  constructor(
    private readonly prisma: PrismaService,
    @InjectQueue(QueueName.Email) private readonly jobs: EmailQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** One pass; returns how many emails it enqueued. */
  async sweep(): Promise<number> {
    const cutoff = new Date(Date.now() - this.config.EMAIL_SWEEP_INTERVAL_MS);
    const rows = await this.prisma.emailMessage.findMany({
      where: { status: EmailStatus.Queued, createdAt: { lt: cutoff } },
      orderBy: { createdAt: 'asc' },
      take: 500,
      select: { id: true },
    });
    let enqueued = 0;
    for (const { id } of rows) {
      const state = await this.jobs.getJobState(id);
      // waiting, delayed (a retry), active, prioritized: its job is on its way.
      if (state !== 'unknown' && state !== 'completed' && state !== 'failed') continue;
      // A finished job with a still-queued row lost its final write; the row is the truth.
      if (state !== 'unknown') await this.jobs.remove(id);
      await enqueueEmail(this.jobs, id, this.config);
      enqueued++;
    }
    if (enqueued > 0) this.logger.log(`re-enqueued ${enqueued} queued email(s) that had no job`);
    return enqueued;
  }
}
