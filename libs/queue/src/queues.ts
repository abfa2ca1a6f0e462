/**
 * Queue and job names: stable strings shared by api (producer) and worker (consumer).
 * Changing one strands the jobs already waiting under the old name.
 */
export const QueueName = {
  /** Platform self-checks; the worker answers `ping` so readiness can be shown end to end. */
  System: 'system',
  /** Outgoing email: one job per email_messages row (jobId = row id), see libs/mail. */
  Email: 'email',
  /** Committed outbox events (jobId = event id), fanned out to the functions they trigger. */
  Events: 'events',
  /** Function runs: one job per function_runs row (jobId = run id). */
  Functions: 'functions',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/**
 * Jobs of the system queue. Besides `ping`, each is a periodic sweep of the worker, ticked by
 * a BullMQ job scheduler of the same id, so one worker takes each tick however many run.
 */
export const SystemJob = {
  Ping: 'ping',
  /** Deletes old function runs, their receipts and published outbox rows. */
  RetentionSweep: 'retention.sweep',
  /** Deletes abandoned guests. */
  GuestCleanup: 'auth.guest-cleanup',
  /** The outbox relay's fallback poll (it also wakes on NOTIFY). */
  OutboxPoll: 'outbox.poll',
  /** Re-enqueues function runs left queued without a job. */
  RunSweep: 'functions.run-sweep',
  /** Re-enqueues queued emails without a job. */
  EmailSweep: 'email.sweep',
} as const;
export type SweepJob = Exclude<(typeof SystemJob)[keyof typeof SystemJob], typeof SystemJob.Ping>;

export const EmailJob = {
  Send: 'send',
} as const;

/** Jobs of the events queue: one per outbox event type, plus the schedulers' ticks. */
export const EventsJob = {
  AuthSignup: 'auth.signup',
  AuthIdentity: 'auth.identity',
  AuthMfa: 'auth.mfa',
  DbChange: 'db.change',
  StorageChange: 'storage.change',
  ScheduleTick: 'schedule.tick',
} as const;

export const FunctionsJob = {
  Run: 'run',
} as const;

/** An outbox event as the relay publishes it. */
export interface OutboxJobData {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: string;
}

/** What a function run job returns (the invocation shape of the api). */
export interface FunctionRunResult {
  runId: string;
  status: string;
  result?: unknown;
  error?: { code: string; message: string };
  durationMs: number | null;
}

/** Payload and result of every job, by queue and job name. */
export interface JobTypes {
  [QueueName.System]: {
    [SystemJob.Ping]: { data: { sentAt: string }; result: { pong: true; sentAt: string; workerPid: number } };
    [SystemJob.RetentionSweep]: { data: Record<string, never>; result: { runs: number; receipts: number; outbox: number } };
    [SystemJob.GuestCleanup]: { data: Record<string, never>; result: { guests: number } };
    [SystemJob.OutboxPoll]: { data: Record<string, never>; result: { published: number } };
    [SystemJob.RunSweep]: { data: Record<string, never>; result: { enqueued: number } };
    [SystemJob.EmailSweep]: { data: Record<string, never>; result: { enqueued: number } };
  };
  [QueueName.Email]: {
    [EmailJob.Send]: { data: { messageId: string }; result: { status: 'sent' | 'skipped'; messageId?: string } };
  };
  [QueueName.Events]: {
    [EventsJob.AuthSignup]: { data: OutboxJobData; result: { runs: number } };
    [EventsJob.AuthIdentity]: { data: OutboxJobData; result: { runs: number } };
    [EventsJob.AuthMfa]: { data: OutboxJobData; result: { runs: number } };
    [EventsJob.DbChange]: { data: OutboxJobData; result: { runs: number } };
    [EventsJob.StorageChange]: { data: OutboxJobData; result: { runs: number } };
    [EventsJob.ScheduleTick]: { data: { functionId: string }; result: { runs: number } };
  };
  [QueueName.Functions]: {
    /**
     * `functionId` spares the worker a lookup (absent in jobs enqueued before issue 20);
     * `sync`: a synchronous invoke (one attempt, its state written once, with its outcome).
     */
    [FunctionsJob.Run]: { data: { runId: string; functionId?: string; sync?: boolean }; result: FunctionRunResult };
  };
}

export type JobName<Q extends QueueName> = keyof JobTypes[Q] & string;
export type JobData<Q extends QueueName, J extends JobName<Q>> = JobTypes[Q][J] extends { data: infer D } ? D : never;
export type JobResult<Q extends QueueName, J extends JobName<Q>> = JobTypes[Q][J] extends { result: infer R }
  ? R
  : never;
