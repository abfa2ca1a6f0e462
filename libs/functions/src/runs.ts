import type { Queue } from 'bullmq';
import type { Selectable } from 'kysely';
import type { DB, Db } from '#libs/database';
import { type FunctionRunResult, FunctionsJob } from '#libs/queue';
import type { RunError } from './types.js';

/**
 * The run lifecycle's one home (api and worker alike): creating a run row, adding its job,
 * and turning a run row into the invocation shape. Row types come from prisma/schema (the
 * generated Kysely `DB`), so a new column of function_runs is one edit of the schema.
 */

/** A function_runs row as Postgres returns it. */
export type RunRecord = Selectable<DB['function_runs']>;

export interface NewRun {
  /** Set when the caller needs the id before the row exists (the api waits on it). */
  id?: string;
  functionId: string;
  versionId: string;
  version: number;
  trigger: string;
  eventId: string | null;
  event: unknown;
  maxAttempts: number;
  replayOf?: string | null;
}

/** Inserts a queued run and returns its id (one round trip). */
export async function insertRun(db: Db, run: NewRun): Promise<string> {
  const row = await db
    .insertInto('function_runs')
    .values({
      ...(run.id ? { id: run.id } : {}),
      function_id: run.functionId,
      version_id: run.versionId,
      version: run.version,
      trigger: run.trigger,
      event_id: run.eventId,
      event: JSON.stringify(run.event),
      max_attempts: run.maxAttempts,
      replay_of: run.replayOf ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The job of a run: `attempts` (BullMQ's, with exponential backoff from `backoffMs`). */
export interface RunJobSpec {
  runId: string;
  /** Spares the worker a lookup of the run's function. */
  functionId?: string;
  attempts: number;
  backoffMs: number;
  /** A synchronous invoke: one attempt, its state written once, with its outcome. */
  sync?: boolean;
}

/** The BullMQ job of a run (jobId = run id, so adding one twice is harmless). */
function runJob(job: RunJobSpec) {
  const data = { runId: job.runId, ...(job.functionId ? { functionId: job.functionId } : {}), ...(job.sync ? { sync: true } : {}) };
  return { name: FunctionsJob.Run, data, opts: { jobId: job.runId, attempts: job.attempts, backoff: { type: 'exponential', delay: job.backoffMs } } };
}

/** Adds a run's job. */
export async function enqueueRun(queue: Queue, job: RunJobSpec): Promise<void> {
  const { name, data, opts } = runJob(job);
  await queue.add(name, data, opts);
}

/** Adds the jobs of several runs in one round trip. */
export async function enqueueRuns(queue: Queue, jobs: RunJobSpec[]): Promise<void> {
  if (jobs.length > 0) await queue.addBulk(jobs.map(runJob));
}

/** What resultOf reads of a run (as api and worker select it). */
export interface RunResultFields {
  id: string;
  status: string;
  durationMs: number | null;
  result: unknown;
  error: unknown;
}

/** The invocation shape of a run (what a synchronous invoke answers): no stack, no logs. */
export function resultOf(run: RunResultFields): FunctionRunResult {
  const result: FunctionRunResult = { runId: run.id, status: run.status, durationMs: run.durationMs };
  if (run.result !== null && run.result !== undefined) result.result = run.result;
  const error = run.error as RunError | null; // written by the worker as RunError
  if (error) result.error = { code: error.code, message: error.message };
  return result;
}
