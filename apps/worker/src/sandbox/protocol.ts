import type { RunError, RunLogLine } from '#libs/functions';

/**
 * Messages between a worker and its sandbox hosts (child processes, IPC with the
 * structured-clone serialisation). Types only: host.ts runs without a bundler.
 */

/** Run a function once, in a fresh context of a warm isolate of its version. */
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

export type ToHost = RunRequest | CallReply | { t: 'stats' };

/** The warm pool's bounds in a host (SANDBOX_* settings). */
export interface PoolOptions {
  /** An isolate idle this long is dropped. */
  isolateIdleMs: number;
  /** LRU bound on the heap in use of all warm isolates of a host. */
  warmMemoryMb: number;
  /** LRU bound on their number. */
  maxWarmIsolates: number;
}

/** What a host holds in its warm pool. */
export interface PoolStats {
  isolates: number;
  versions: number;
  heapBytes: number;
  blanks: number;
}

/**
 * What may cross from an isolate into its host and on to the worker, per run. Each bound is
 * checked inside the isolate (with primitives user code cannot fake) BEFORE the value is
 * copied out, and again in the host and the worker (docs/security.md, Functions sandbox).
 */
export const SANDBOX_LIMITS = {
  /** One log line, in UTF-16 code units (longer lines are cut). */
  maxLogLine: 8 * 1024,
  /** The JSON text of a ctx call's arguments, in UTF-16 code units. */
  maxArgsChars: 1024 * 1024,
  /** The JSON text of a run's result, in UTF-16 code units (then 1 MiB of UTF-8 in the host). */
  maxResultChars: 1024 * 1024,
  maxResultBytes: 1024 * 1024,
  /** An error's message / stack as recorded. */
  maxErrorMessage: 4 * 1024,
  maxErrorStack: 8 * 1024,
  /** A fetch request body. */
  maxFetchBodyBytes: 5 * 1024 * 1024,
  /** A fetch response body (read by the worker). */
  maxFetchResponseBytes: 5 * 1024 * 1024,
  /** One ctx.storage.upload. */
  maxUploadBytes: 50 * 1024 * 1024,
  /** One ctx.storage.download (checked on the file's size before any byte is read). */
  maxDownloadBytes: 10 * 1024 * 1024,
  /** Any other answer of the api to a ctx call (db.list pages, ...). */
  maxApiResponseBytes: 10 * 1024 * 1024,
  /** Bytes of request bodies of ctx calls in flight at once, per run. */
  maxInflightBytes: 64 * 1024 * 1024,
  /** ctx calls in flight at once, per run, and in total per run. */
  maxPendingCalls: 16,
  maxCallsPerRun: 1000,
  /** Pending setTimeout timers per run. */
  maxTimers: 1000,
} as const;
export type SandboxLimits = typeof SANDBOX_LIMITS;

/** A `ctx` operation the function asked for (db, storage, email, fetch), done by the worker. */
export interface HostCall {
  t: 'call';
  runId: string;
  callId: number;
  method: string;
  /** The arguments as JSON text (bounded by maxArgsChars), parsed by the worker. */
  args: string;
  /** The binary body of fetch / storage.upload, copied out of the isolate at its exact size. */
  body?: Uint8Array;
  /** ms left before the run's timeout, to bound the operation. */
  remainingMs: number;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'timed_out';
  result?: unknown;
  /** From the host: the result as JSON text (parsed by the worker; no deep object crosses the IPC). */
  resultJson?: string;
  error?: RunError;
  logs: RunLogLine[];
  logsTruncated: boolean;
  durationMs: number;
  /** Whether the run needed a new isolate for its version (a cold start). */
  cold?: boolean;
  /** CPU time the isolate spent on the run. */
  cpuMs?: number;
  /** Heap in use (V8 heap and buffers) of the isolate when the run ended. */
  memoryBytes?: number;
}

export interface RunDone {
  t: 'done';
  id: string;
  outcome: RunOutcome;
}

export type FromHost = HostCall | RunDone | { t: 'ready' } | { t: 'evicted'; key: string } | { t: 'stats'; stats: PoolStats };
