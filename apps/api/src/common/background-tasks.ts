import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

/**
 * Work a request starts but does not wait for (so its answer cannot depend on, or time,
 * that work). Failures are logged; a graceful shutdown waits for what is still running.
 */
@Injectable()
export class BackgroundTasks implements OnModuleDestroy {
  private readonly logger = new Logger('BackgroundTasks');
  private readonly running = new Set<Promise<void>>();

  /** Runs `work` after the current request's own work (next macrotask), never throwing into it. */
  run(name: string, work: () => Promise<void>): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((err: unknown) => this.logger.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /** Resolves when every task started so far has finished (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** The earliest shutdown hook: the work finishes while the database and queues are still open. */
  async onModuleDestroy(): Promise<void> {
    await this.idle();
  }
}
