import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { PrismaService } from '#libs/database';
import { createMailer, describeDeliveryError, EmailStatus, type Mailer } from '#libs/mail';
import { EmailJob, type JobData, type JobResult, QueueName } from '#libs/queue';

type SendData = JobData<typeof QueueName.Email, typeof EmailJob.Send>;
type SendResult = JobResult<typeof QueueName.Email, typeof EmailJob.Send>;

/**
 * Delivers the emails of the outbox (email_messages), one job per row (jobId = row id).
 * A temporary failure (4xx reply, refused or dropped connection, timeout) is thrown so
 * BullMQ retries it with exponential backoff (EMAIL_RETRY_BASE_MS, EMAIL_MAX_ATTEMPTS);
 * a permanent one (5xx reply) is recorded as `failed` and never retried. Every attempt is
 * recorded on the row (attempts, last SMTP reply or error).
 */
@Processor(QueueName.Email)
export class EmailProcessor extends WorkerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EmailProcessor.name);
  private readonly mailer: Mailer;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
    this.mailer = createMailer(config, (message, fields) => this.logger.log(`${message} ${JSON.stringify(fields)}`));
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
    if (this.mailer.kind === 'file') {
      this.logger.warn(`SMTP_HOST is not set: emails are written as .eml files to ${this.config.MAIL_DIR}`);
    }
  }

  onApplicationShutdown(): void {
    this.mailer.close();
  }

  async process(job: Job<SendData, SendResult>): Promise<SendResult> {
    if (job.name !== EmailJob.Send) throw new UnrecoverableError(`Unknown job ${job.name} on queue ${QueueName.Email}`);
    const id = job.data.messageId;
    const message = await this.prisma.emailMessage.findUnique({
      where: { id },
      select: { id: true, to: true, subject: true, text: true, html: true, status: true },
    });
    // Already delivered or given up on (a duplicate job), or not committed: nothing to send.
    // A row that commits later is picked up by the sweeper (email-sweeper.ts).
    if (!message || message.status !== EmailStatus.Queued) return { status: 'skipped' };

    const attemptAt = new Date();
    try {
      const result = await this.mailer.send(message);
      await this.prisma.emailMessage.update({
        where: { id },
        data: {
          status: EmailStatus.Sent,
          attempts: { increment: 1 },
          messageId: result.messageId,
          response: result.response.slice(0, 1000),
          rejected: result.rejected,
          error: null,
          lastAttemptAt: attemptAt,
          sentAt: new Date(),
        },
      });
      return { status: 'sent', messageId: result.messageId };
    } catch (err) {
      const failure = describeDeliveryError(err);
      const lastAttempt = failure.permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await this.prisma.emailMessage.update({
        where: { id },
        data: {
          status: lastAttempt ? EmailStatus.Failed : EmailStatus.Queued,
          attempts: { increment: 1 },
          response: failure.response,
          error: failure.message,
          lastAttemptAt: attemptAt,
        },
      });
      if (failure.permanent) {
        this.logger.warn({ msg: 'email refused by the server, not retried', emailId: id, error: failure.message });
        throw new UnrecoverableError(failure.message);
      }
      this.logger.warn({
        msg: `email attempt failed${lastAttempt ? ', no attempts left' : ', will retry'}`,
        emailId: id,
        attempt: job.attemptsMade + 1,
        error: failure.message,
      });
      throw new Error(failure.message, { cause: err });
    }
  }
}
