import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type pg from 'pg';
import type { EventPayloads } from '#libs/events';
import { enqueueRuns, type FunctionEvent, type RunJobSpec } from '#libs/functions';
import { EventsJob, QueueName } from '#libs/queue';
import { FunctionRunsRepository, type Subscriber } from './function-runs.repository.js';

/** What a trigger matches: its type, target (collection, bucket; null for auth) and operation. */
export interface TriggerKey {
  type: string;
  target: string | null;
  operation: string;
}

/** An outbox event as the relay claims it. */
export interface OutboxEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/**
 * The event a function receives for an outbox event, and the triggers it matches; undefined
 * for an event no trigger type listens to. Payloads are written by writeOutbox with their
 * type (libs/events), so each is read as its type's payload.
 */
export function functionEventOf({ id, type, payload }: OutboxEvent): { event: FunctionEvent; on: TriggerKey } | undefined {
  switch (type) {
    case EventsJob.DbChange: {
      const p = payload as unknown as EventPayloads['db.change'];
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
      return { event, on: { type: 'db', target: p.collection, operation: p.operation } };
    }
    case EventsJob.StorageChange: {
      const p = payload as unknown as EventPayloads['storage.change'];
      const event: FunctionEvent = { id, type: 'storage', bucket: p.bucket, operation: p.operation, file: p.file, actor: p.actor };
      return { event, on: { type: 'storage', target: p.bucket, operation: p.operation } };
    }
    case EventsJob.AuthSignup: {
      const p = payload as unknown as EventPayloads['auth.signup'];
      const event: FunctionEvent = { id, type: 'auth', operation: 'signup', user: p.user, ...(p.provider ? { provider: p.provider } : {}) };
      return { event, on: { type: 'auth', target: null, operation: 'signup' } };
    }
    case EventsJob.AuthIdentity: {
      const p = payload as unknown as EventPayloads['auth.identity'];
      const event: FunctionEvent = { id, type: 'auth', operation: p.operation, userId: p.userId, provider: p.provider };
      return { event, on: { type: 'auth', target: null, operation: p.operation } };
    }
    case EventsJob.AuthMfa: {
      const p = payload as unknown as EventPayloads['auth.mfa'];
      const event: FunctionEvent = { id, type: 'auth', operation: p.operation, userId: p.userId, factor: p.factor };
      return { event, on: { type: 'auth', target: null, operation: p.operation } };
    }
    default:
      return undefined;
  }
}

/**
 * Fans change events out to the functions whose triggers match them: one run per event and
 * function, created with the function's receipt for the event (so an event delivered twice
 * makes no second run). The outbox relay does it for a whole batch inside the transaction
 * that claims the batch, then adds the runs' jobs in one round trip after the commit.
 */
@Injectable()
export class FanOut {
  constructor(
    private readonly runs: FunctionRunsRepository,
    @InjectQueue(QueueName.Functions) private readonly queue: Queue,
  ) {}

  /**
   * Creates the runs of `events` on `client` (the caller's transaction) and returns the jobs
   * to add once it has committed. Subscribers are looked up once per trigger key in the batch.
   */
  async createRuns(client: pg.PoolClient, events: OutboxEvent[]): Promise<RunJobSpec[]> {
    const lookups = new Map<string, Promise<Subscriber[]>>();
    const runs: { sub: Subscriber; event: FunctionEvent }[] = [];
    for (const outboxEvent of events) {
      const found = functionEventOf(outboxEvent);
      if (!found) continue;
      const { type, target, operation } = found.on;
      const key = JSON.stringify([type, target, operation]);
      let subscribers = lookups.get(key);
      if (!subscribers) lookups.set(key, (subscribers = this.runs.subscribers(type, target, operation, client)));
      for (const sub of await subscribers) runs.push({ sub, event: found.event });
    }
    return (await this.runs.runsForEvents(runs, client)).jobs;
  }

  /** Adds the jobs of runs created by createRuns (after their commit). */
  enqueue(jobs: RunJobSpec[]): Promise<void> {
    return enqueueRuns(this.queue, jobs);
  }
}
