import type { RunStatus } from './types.js';

/** How an attempt ended, as the sandbox reports it. */
export type AttemptStatus = Extract<RunStatus, 'succeeded' | 'failed' | 'timed_out'>;

export interface AttemptVerdict {
  /** The status the run is left in after this attempt. */
  status: RunStatus;
  /** Whether another attempt follows (after the backoff). */
  retry: boolean;
}

/**
 * A run's status after an attempt (docs/functions.md, Retries): a success is final; a failure
 * or timeout with attempts left keeps its status and is retried; the last failed attempt of a
 * run that had retries leaves it `dead`, while a run without retries (a synchronous invoke)
 * keeps `failed`/`timed_out`. An attempt is the last when the run's or the job's count is used
 * up (`jobAttemptsMade`: attempts BullMQ made before this one; `jobAttempts`: its limit).
 */
export function attemptVerdict(a: {
  outcome: AttemptStatus;
  attempt: number;
  maxAttempts: number;
  jobAttemptsMade: number;
  jobAttempts: number;
}): AttemptVerdict {
  if (a.outcome === 'succeeded') return { status: 'succeeded', retry: false };
  const last = a.attempt >= a.maxAttempts || a.jobAttemptsMade + 1 >= a.jobAttempts;
  if (!last) return { status: a.outcome, retry: true };
  return { status: a.maxAttempts > 1 ? 'dead' : a.outcome, retry: false };
}
