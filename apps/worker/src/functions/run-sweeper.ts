import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { FunctionsJob, QueueName } from '#libs/queue';
import { FunctionRunsRepository } from './function-runs.repository.js';

/** Adds run jobs (jobId = run id, so adding one twice is harmless). */
@Injectable()
export class RunDispatcher {
  constructor(@InjectQueue(QueueName.Functions) private readonly queue: Queue) {}

  async enqueue(runId: string, attempts: number, backoffMs: number): Promise<void> {
    await this.queue.add(FunctionsJob.Run, { runId }, { jobId: runId, attempts, backoff: { type: 'exponential', delay: backoffMs } });
  }
}

/**
 * Re-enqueues runs left `queued` without a job (the api or a worker died between writing
 * the run and adding its job, or Redis lost it). Runs every minute on every worker; the
 * jobId makes overlapping sweeps harmless.
 */
@Injectable()
export class RunSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RunSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly runs: FunctionRunsRepository,
    private readonly dispatch: RunDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), 60_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(olderThanMs = 60_000): Promise<number> {
    try {
      const stale = await this.runs.staleQueued(olderThanMs, 500);
      for (const run of stale) await this.dispatch.enqueue(run.id, run.maxAttempts, run.backoffMs);
      return stale.length;
    } catch (err) {
      this.logger.warn(`run sweep: ${(err as Error).message}`);
      return 0;
    }
  }
}
