import type { RunError, RunLogLine } from '#libs/functions';

/**
 * Messages between a worker and its sandbox hosts (child processes, IPC with the
 * structured-clone serialisation). Types only: host.ts runs without a bundler.
 */

/** Run a function once, in a new isolate. */
export interface RunRequest {
  t: 'run';
  id: string;
  /** Identifies the code for the compile cache (the version id). */
  codeKey: string;
  code: string;
  event: unknown;
  env: Record<string, string>;
  timeoutMs: number;
  memoryMb: number;
  logLimitBytes: number;
}

/** The answer to a HostCall. */
export interface CallReply {
  t: 'reply';
  callId: number;
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string; status?: number };
}

export type ToHost = RunRequest | CallReply;

/** A `ctx` operation the function asked for (db, storage, email, fetch), done by the worker. */
export interface HostCall {
  t: 'call';
  runId: string;
  callId: number;
  method: string;
  args: unknown[];
  /** ms left before the run's timeout, to bound the operation. */
  remainingMs: number;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'timed_out';
  result?: unknown;
  error?: RunError;
  logs: RunLogLine[];
  logsTruncated: boolean;
  durationMs: number;
}

export interface RunDone {
  t: 'done';
  id: string;
  outcome: RunOutcome;
}

export type FromHost = HostCall | RunDone | { t: 'ready' };

/** The ctx methods a function may call; anything else is refused in the host. */
export const HOST_METHODS = [
  'db.create',
  'db.get',
  'db.list',
  'db.update',
  'db.delete',
  'storage.upload',
  'storage.get',
  'storage.download',
  'storage.delete',
  'storage.list',
  'email.send',
  'fetch',
] as const;
export type HostMethod = (typeof HOST_METHODS)[number];
