import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { type JobData, type JobResult, QueueName, SystemJob } from '#libs/queue';
import { GuestCleanup, type GuestCleanupResult } from '../auth/guest-cleanup.js';
import { type RetentionResult, RetentionSweep } from '../retention/retention.js';

type PingJob = Job<JobData<typeof QueueName.System, 'ping'>, JobResult<typeof QueueName.System, 'ping'>>;

/** Answers the platform's self-check jobs, proving a worker consumes its queues, and runs the retention sweep and the guest cleanup. */
@Processor(QueueName.System)
export class SystemProcessor extends WorkerHost {
  constructor(
    private readonly retention: RetentionSweep,
    private readonly guests: GuestCleanup,
  ) {
    super();
  }

  async process(job: PingJob | Job<Record<string, never>>): Promise<JobResult<typeof QueueName.System, 'ping'> | RetentionResult | GuestCleanupResult> {
    if (job.name === SystemJob.RetentionSweep) return this.retention.sweep();
    if (job.name === SystemJob.GuestCleanup) return this.guests.sweep();
    if (job.name !== SystemJob.Ping) throw new Error(`Unknown job ${job.name} on queue ${QueueName.System}`);
    const { sentAt } = (job as PingJob).data;
    return { pong: true, sentAt, workerPid: process.pid };
  }
}
