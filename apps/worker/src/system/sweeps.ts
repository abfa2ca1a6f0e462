import type { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';

/**
 * Registers a periodic job of the system queue as a BullMQ job scheduler. Upserting is
 * idempotent: every worker registers the same scheduler (same id), so however many workers
 * run, one of them takes each tick. A failure (Redis down at boot) is logged, not fatal.
 */
export async function upsertSystemScheduler(queue: Queue, id: string, every: number, jobName: string, logger: Logger): Promise<void> {
  await queue.upsertJobScheduler(id, { every }, { name: jobName, data: {} }).catch((err: Error) => logger.warn(`${id} scheduler: ${err.message}`));
}
