import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { type JobData, type JobResult, QueueName, SystemJob } from '#libs/queue';
import { Sweeps } from './sweeps.js';

type PingJob = Job<JobData<typeof QueueName.System, 'ping'>, JobResult<typeof QueueName.System, 'ping'>>;

/** Sweeps may run side by side (a long retention sweep does not hold up the outbox poll). */
const CONCURRENCY = 4;

/**
 * Answers the platform's self-check jobs, proving a worker consumes its queues, and runs the
 * periodic sweeps, each ticked by its job scheduler (sweeps.ts).
 */
@Processor(QueueName.System)
export class SystemProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(SystemProcessor.name);

  constructor(private readonly sweeps: Sweeps) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker.concurrency = CONCURRENCY;
    await this.sweeps.schedule();
  }

  async process(job: PingJob | Job<Record<string, never>>): Promise<unknown> {
    const sweep = this.sweeps.find(job.name);
    if (sweep) return sweep.run();
    if (job.name !== SystemJob.Ping) throw new Error(`Unknown job ${job.name} on queue ${QueueName.System}`);
    const { sentAt } = (job as PingJob).data;
    return { pong: true, sentAt, workerPid: process.pid };
  }

  /** A failed sweep is logged here, once for all of them; its next tick tries again. */
  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    if (job && this.sweeps.find(job.name)) this.logger.warn(`${job.name} failed: ${err.message}; trying again on the next tick`);
  }
}
