import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { EventPayloads } from '#libs/events';
import { enqueueRun, type FunctionEvent, uuidFromName } from '#libs/functions';
import { EventsJob, type OutboxJobData, QueueName } from '#libs/queue';
import { runWithLock } from '../common/worker-lock.js';
import { FunctionRunsRepository, type Subscriber } from './function-runs.repository.js';

type EventsJobData = OutboxJobData | { functionId: string };

/**
 * Fans an event out to the functions whose triggers match it: one run per function, created
 * together with the function's receipt for the event, so a redelivered event (the relay
 * publishing twice, a job retried) makes no second run. Schedule ticks come here too,
 * with an event id derived from the tick, so two workers never run one tick twice.
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
    let runs = 0;
    for (const sub of found.subscribers) {
      const { runId, created, status } = await this.runs.runForEvent(sub, found.event.type, found.event.id, found.event);
      // A run whose job was lost (crash between insert and enqueue) is enqueued again.
      if (created || status === 'queued') await enqueueRun(this.queue, { runId, functionId: sub.functionId, attempts: sub.retries + 1, backoffMs: sub.backoffMs });
      if (created) runs++;
    }
    return { runs };
  }

  private async fanOut(job: Job<EventsJobData>): Promise<{ event: FunctionEvent; subscribers: Subscriber[] } | undefined> {
    if (job.name === EventsJob.ScheduleTick && 'functionId' in job.data) {
      const sub = await this.runs.scheduled(job.data.functionId);
      if (!sub) return undefined;
      const scheduledAt = new Date(job.opts.prevMillis ?? job.timestamp).toISOString();
      return { event: { id: uuidFromName(`schedule:${job.id}`), type: 'schedule', scheduledAt }, subscribers: [sub] };
    }
    if (!('type' in job.data)) return undefined;
    const { id } = job.data;
    switch (job.data.type) {
      case EventsJob.DbChange: {
        const p = job.data.payload as unknown as EventPayloads['db.change']; // written by writeOutbox with this type
        const event: FunctionEvent = {
          id,
          type: 'db',
          collection: p.collection,
          operation: p.operation,
          documentId: p.documentId,
          before: p.before,
          after: p.after,
          actor: p.actor,
        };
        return { event, subscribers: await this.runs.subscribers('db', p.collection, p.operation) };
      }
      case EventsJob.StorageChange: {
        const p = job.data.payload as unknown as EventPayloads['storage.change']; // as above
        const event: FunctionEvent = { id, type: 'storage', bucket: p.bucket, operation: p.operation, file: p.file, actor: p.actor };
        return { event, subscribers: await this.runs.subscribers('storage', p.bucket, p.operation) };
      }
      case EventsJob.AuthSignup: {
        const p = job.data.payload as unknown as EventPayloads['auth.signup']; // as above
        const event: FunctionEvent = { id, type: 'auth', operation: 'signup', user: p.user, ...(p.provider ? { provider: p.provider } : {}) };
        return { event, subscribers: await this.runs.subscribers('auth', null, 'signup') };
      }
      case EventsJob.AuthIdentity: {
        const p = job.data.payload as unknown as EventPayloads['auth.identity']; // as above
        const event: FunctionEvent = { id, type: 'auth', operation: p.operation, userId: p.userId, provider: p.provider };
        return { event, subscribers: await this.runs.subscribers('auth', null, p.operation) };
      }
      case EventsJob.AuthMfa: {
        const p = job.data.payload as unknown as EventPayloads['auth.mfa']; // as above
        const event: FunctionEvent = { id, type: 'auth', operation: p.operation, userId: p.userId, factor: p.factor };
        return { event, subscribers: await this.runs.subscribers('auth', null, p.operation) };
      }
      default:
        return undefined; // an event no trigger type listens to
    }
  }
}
