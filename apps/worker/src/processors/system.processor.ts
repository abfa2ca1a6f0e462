import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { type JobData, type JobResult, QueueName, SystemJob } from '#libs/queue';

type PingJob = Job<JobData<typeof QueueName.System, 'ping'>, JobResult<typeof QueueName.System, 'ping'>>;

/** Answers the platform's self-check jobs, proving a worker consumes its queues. */
@Processor(QueueName.System)
export class SystemProcessor extends WorkerHost {
  async process(job: PingJob): Promise<JobResult<typeof QueueName.System, 'ping'>> {
    if (job.name !== SystemJob.Ping) throw new Error(`Unknown job ${job.name} on queue ${QueueName.System}`);
    return { pong: true, sentAt: job.data.sentAt, workerPid: process.pid };
  }
}
