import type { Worker } from 'bullmq';

/**
 * Starts a BullMQ worker (created with `autorun: false`) whose jobs are locked for `lockMs`:
 * renewed every lockMs / 2, and a job whose worker died (its lock expired) is taken over by
 * the stalled-job check within about lockMs. The lock manager copies lockDuration and
 * lockRenewTime when the worker is constructed (30 s / 15 s), so it is made again here:
 * without that, a job longer than lockMs lost its lock before the first renewal and was
 * started a second time.
 */
export function runWithLock(worker: Worker, lockMs: number, onError: (err: unknown) => void): void {
  worker.opts.lockDuration = lockMs;
  worker.opts.lockRenewTime = Math.floor(lockMs / 2);
  worker.opts.stalledInterval = Math.max(500, Math.floor(lockMs / 2));
  (worker as unknown as { createLockManager(): void }).createLockManager(); // protected in BullMQ's types, meant for subclasses; not started yet (autorun: false)
  void worker.run().catch(onError);
}
