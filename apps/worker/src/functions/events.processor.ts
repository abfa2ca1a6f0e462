import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { enqueueRuns, type FunctionEvent, uuidFromName } from '#libs/functions';
import { EventsJob, type OutboxJobData, QueueName } from '#libs/queue';
import { runWithLock } from '../common/worker-lock.js';
import { functionEventOf } from './fan-out.js';
import { FunctionRunsRepository, type Subscriber } from './function-runs.repository.js';

type EventsJobData = OutboxJobData | { functionId: string };

/**
 * Jobs of the events queue: schedule ticks (with an event id derived from the tick, so two
 * workers never run one tick twice), and change events published as jobs (by a relay from
 * before issue 14, still queued after an upgrade; the relay now fans out itself, fan-out.ts).
 * One run per subscribed function, created with the function's receipt for the event, so an
 * event delivered twice makes no second run.
 */
@Processor(QueueName.Events, { autorun: false })
export class EventsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventsProcessor.name);

  constructor(
    private readonly runs: FunctionRunsRepository,
    @InjectQueue(QueueName.Functions) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
    // A fan-out held by a worker that died is taken over as soon as a run's would be.
    runWithLock(this.worker, this.config.FUNCTIONS_LOCK_MS, (err) => this.logger.error(err));
  }

  async process(job: Job<EventsJobData>): Promise<{ runs: number }> {
    const found = await this.fanOut(job);
    if (!found) return { runs: 0 };
    const { jobs, created } = await this.runs.runsForEvents(found.subscribers.map((sub) => ({ sub, event: found.event })));
    await enqueueRuns(this.queue, jobs);
    return { runs: created };
  }

  private async fanOut(job: Job<EventsJobData>): Promise<{ event: FunctionEvent; subscribers: Subscriber[] } | undefined> {
    if (job.name === EventsJob.ScheduleTick && 'functionId' in job.data) {
      const sub = await this.runs.scheduled(job.data.functionId);
      if (!sub) return undefined;
      const scheduledAt = new Date(job.opts.prevMillis ?? job.timestamp).toISOString();
      return { event: { id: uuidFromName(`schedule:${job.id}`), type: 'schedule', scheduledAt }, subscribers: [sub] };
    }
    if (!('type' in job.data)) return undefined;
    const found = functionEventOf(job.data);
    if (!found) return undefined;
    return { event: found.event, subscribers: await this.runs.subscribers(found.on.type, found.on.target, found.on.operation) };
  }
}
