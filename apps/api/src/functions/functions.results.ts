import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { type FunctionRunResult, QueueName } from '#libs/queue';

interface Waiter {
  resolve(result: FunctionRunResult | undefined): void;
  timer: NodeJS.Timeout;
}

/**
 * Waits for function runs to finish, for synchronous invocations. One QueueEvents stream per
 * api process (not one per request); the run job returns the invocation shape, delivered
 * with the `completed` event. `undefined` means "not finished in time" or "the job failed
 * outside the function" (the caller then reads the run from Postgres).
 */
@Injectable()
export class FunctionResults implements OnModuleInit, OnApplicationShutdown {
  private events?: QueueEvents;
  private readonly waiters = new Map<string, Waiter>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    this.events = new QueueEvents(QueueName.Functions, {
      connection: { url: this.config.REDIS_URL, maxRetriesPerRequest: null },
      prefix: this.config.QUEUE_PREFIX,
    });
    this.events.on('error', () => undefined); // reconnects by itself; waiters time out meanwhile
    this.events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, parseResult(returnvalue)));
    this.events.on('failed', ({ jobId }) => this.settle(jobId, undefined));
    await this.events.waitUntilReady();
  }

  async onApplicationShutdown(): Promise<void> {
    for (const id of [...this.waiters.keys()]) this.settle(id, undefined);
    if (!this.events) return;
    // After Redis has been away, BullMQ's QueueEvents.close() (and disconnect()) can wait
    // forever on its blocking connection: bound the wait, so shutdown always completes.
    // Nothing is lost: this stream only observes job events.
    const closed = await settledWithin(this.events.close(), AbortSignal.timeout(2_000));
    if (!closed) void this.events.disconnect().catch(() => undefined);
  }

  /** Registers the wait before the job is added, so the event cannot be missed. */
  wait(
    runId: string,
    timeoutMs: number,
  ): { result: Promise<FunctionRunResult | undefined>; cancel(): void; extend(timeoutMs: number): void } {
    let resolveFn!: (result: FunctionRunResult | undefined) => void;
    const result = new Promise<FunctionRunResult | undefined>((resolve) => (resolveFn = resolve));
    this.waiters.set(runId, { resolve: resolveFn, timer: setTimeout(() => this.settle(runId, undefined), timeoutMs) });
    return {
      result,
      cancel: () => this.settle(runId, undefined),
      /** Sets the wait to end `timeoutMs` from now (once the function's timeout is known). */
      extend: (ms: number) => {
        const waiter = this.waiters.get(runId);
        if (!waiter) return;
        clearTimeout(waiter.timer);
        waiter.timer = setTimeout(() => this.settle(runId, undefined), ms);
      },
    };
  }

  private settle(runId: string, result: FunctionRunResult | undefined): void {
    const waiter = this.waiters.get(runId);
    if (!waiter) return;
    this.waiters.delete(runId);
    clearTimeout(waiter.timer);
    waiter.resolve(result);
  }
}

function parseResult(value: unknown): FunctionRunResult | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== 'object' || parsed === null || !('runId' in parsed) || !('status' in parsed)) return undefined;
  return parsed as FunctionRunResult; // shape checked on the two fields every result has
}

/** Whether `work` succeeds before `signal` aborts (`work` goes on either way). */
function settledWithin(work: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve(false), { once: true });
    work.then(
      () => resolve(true),
      () => resolve(false),
    );
  });
}
