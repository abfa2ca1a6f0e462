import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { enqueueRun } from '#libs/functions';
import { QueueName } from '#libs/queue';
import { FunctionRunsRepository } from './function-runs.repository.js';

/**
 * Re-enqueues runs left `queued` without a job (the api or a worker died between writing
 * the run and adding its job, or Redis lost it). A job of the system queue ticked every
 * minute by its job scheduler (system/sweeps.ts); the jobId makes a run enqueued twice harmless.
 */
@Injectable()
export class RunSweeper {
  constructor(
    private readonly runs: FunctionRunsRepository,
    @InjectQueue(QueueName.Functions) private readonly queue: Queue,
  ) {}

  /** One pass; returns how many runs it enqueued (a failure is logged by the system processor). */
  async sweep(olderThanMs = 60_000): Promise<number> {
    const stale = await this.runs.staleQueued(olderThanMs, 500);
    for (const run of stale) await enqueueRun(this.queue, { runId: run.id, attempts: run.maxAttempts, backoffMs: run.backoffMs });
    return stale.length;
  }
}
