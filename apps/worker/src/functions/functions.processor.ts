import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { pgErrorOf } from '#libs/database';
import {
  attemptVerdict,
  mapStack,
  mintRunToken,
  parseSourceMap,
  resultOf,
  type RunTokenClaims,
  runTokenSecret,
  type RunError,
  type RunLogLine,
  type RunStatus,
  SecretBox,
  type SourceMap,
  storableJson,
  storableString,
} from '#libs/functions';
import { type FunctionRunResult, FunctionsJob, type JobData, QueueName, REDIS } from '#libs/queue';
import { runWithLock } from '../common/worker-lock.js';
import { FunctionRunsRepository, type RunContext, type RunFinish } from './function-runs.repository.js';
import type { RunOutcome } from '../sandbox/protocol.js';
import { SandboxPool } from '../sandbox/sandbox-pool.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';

type RunJob = Job<JobData<typeof QueueName.Functions, typeof FunctionsJob.Run>, FunctionRunResult>;

/**
 * Leases of a function's concurrency slots in Redis: a sorted set of run ids scored by lease
 * expiry, so a slot held by a dead worker frees itself.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

@Injectable()
export class FunctionSlots {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private key(functionId: string): string {
    return `${this.config.QUEUE_PREFIX}:function-slots:${functionId}`;
  }

  async acquire(functionId: string, runId: string, limit: number, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    const got = await this.redis.eval(ACQUIRE, 1, this.key(functionId), now, now + leaseMs, limit, runId, leaseMs * 2);
    return got === 1;
  }

  async release(functionId: string, runId: string): Promise<void> {
    await this.redis.zrem(this.key(functionId), runId).catch(() => undefined);
  }
}

/** A run about to be attempted: started by a statement (`previousStatus`), or read for a one-statement run (`startedAt`). */
type StartedRun = RunContext & { previousStatus?: RunStatus; startedAt?: Date };

/** How long a run token outlives the run's timeout (ctx calls in flight at the end). */
const RUN_TOKEN_GRACE_MS = 30_000;

/** A version's code and parsed source map. */
interface VersionCode {
  code: string;
  map: SourceMap | null;
}

/** Version code by version id: versions never change, so this cache is never stale. */
const CODE_CACHE_SIZE = 100;
/** Function ids of runs seen lately (a run deferred for fair share comes back). */
const FUNCTION_ID_CACHE_SIZE = 10_000;
/** A run deferred for fair share comes back after 1–2 × this (up to 25 × for a long backlog). */
const FAIR_SHARE_RETRY_MS = 200;
/**
 * Before deferring a run for fair share, its slot waits this long for one of this worker's
 * runs to finish (fast functions free one within milliseconds): a busy function's run is not
 * sent away for 200 ms+ when a slot frees right after, and the held slot is free again (the
 * run deferred) after this bound, for functions with nothing running here.
 */
const FAIR_SHARE_HOLD_MS = 25;

/**
 * Runs functions: one job per run (jobId = run id). Each attempt is recorded; a failed
 * attempt with attempts left is thrown so BullMQ retries it with exponential backoff; the
 * last one leaves the run `dead` (or `failed`/`timed_out` when it had no retries). The job
 * returns the invocation shape, which the api's synchronous invoke waits for.
 *
 * A worker killed mid-run loses its job lock; another worker's stalled-job check takes the
 * job (FUNCTIONS_LOCK_MS) and runs the attempt again.
 */
@Processor(QueueName.Functions, { autorun: false, maxStalledCount: 2 })
export class FunctionsProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FunctionsProcessor.name);
  private readonly secrets: SecretBox;
  private readonly tokenSecret: string;
  private readonly codeCache = new LRUCache<string, VersionCode>({ max: CODE_CACHE_SIZE });
  private readonly functionIds = new LRUCache<string, string>({ max: FUNCTION_ID_CACHE_SIZE });
  /** Runs in progress on this worker, by function (fair share). */
  private readonly active = new Map<string, number>();
  private activeTotal = 0;
  /** Runs deferred for fair share per function, since it last had nothing running here. */
  private readonly deferred = new Map<string, number>();
  /** Runs holding a slot for fair share (FAIR_SHARE_HOLD_MS), woken when a run here finishes. */
  private readonly holders = new Set<() => void>();

  constructor(
    private readonly runs: FunctionRunsRepository,
    private readonly sandbox: SandboxPool,
    private readonly slots: FunctionSlots,
    private readonly metrics: WorkerMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
    this.secrets = SecretBox.fromConfig(config);
    this.tokenSecret = runTokenSecret(config);
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
    runWithLock(this.worker, this.config.FUNCTIONS_LOCK_MS, (err) => this.logger.error(err));
  }

  /** Lets the runs in flight finish before the sandbox hosts are stopped (onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  async process(job: RunJob, token?: string): Promise<FunctionRunResult> {
    if (job.name !== FunctionsJob.Run) throw new UnrecoverableError(`Unknown job ${job.name} on queue ${QueueName.Functions}`);
    const { runId } = job.data;
    const functionId = job.data.functionId ?? (await this.functionOf(runId));
    if (functionId !== null && !this.mayStart(functionId) && !(await this.hold(functionId))) {
      // Fair share: this function already runs here and only the last free slot is left,
      // which is kept for functions with nothing running here. Try again shortly, without
      // using an attempt; the slot takes the next job in the queue meanwhile.
      // The longer the backlog (runs deferred since the function last had nothing running
      // here), the later they come back: the free slot does not spin through it.
      const deferred = (this.deferred.get(functionId) ?? 0) + 1;
      this.deferred.set(functionId, deferred);
      const backoff = FAIR_SHARE_RETRY_MS * Math.min(25, 1 + Math.floor(deferred / 10));
      await job.moveToDelayed(Date.now() + backoff + Math.floor(Math.random() * FAIR_SHARE_RETRY_MS), token);
      throw new DelayedError();
    }
    const slot = functionId ?? runId;
    this.active.set(slot, (this.active.get(slot) ?? 0) + 1);
    this.activeTotal++;
    try {
      return await this.startAndRun(job, runId, token);
    } finally {
      this.activeTotal--;
      const left = (this.active.get(slot) ?? 1) - 1;
      if (left > 0) this.active.set(slot, left);
      else {
        this.active.delete(slot);
        this.deferred.delete(slot);
      }
      for (const wake of this.holders) wake();
    }
  }

  /** Waits up to FAIR_SHARE_HOLD_MS for mayStart(functionId); true when it may start now. */
  private async hold(functionId: string): Promise<boolean> {
    const deadline = Date.now() + FAIR_SHARE_HOLD_MS;
    while (!this.mayStart(functionId)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.holders.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.holders.add(wake);
      });
    }
    return true;
  }

  /**
   * Whether a run of this function may take one of this worker's WORKER_CONCURRENCY slots
   * now: always when the function has nothing running here, otherwise only while another
   * slot stays free. So however long one function's backlog, any other function finds a
   * slot (docs/functions.md, Limits and isolation).
   */
  private mayStart(functionId: string): boolean {
    const slots = this.config.WORKER_CONCURRENCY;
    if (slots < 2 || !this.active.has(functionId)) return true;
    return this.activeTotal < slots - 1;
  }

  /** The function of a run (one primary-key read, remembered), null when the run is gone. */
  private async functionOf(runId: string): Promise<string | null> {
    const known = this.functionIds.get(runId);
    if (known) return known;
    const functionId = await this.runs.functionOf(runId);
    if (functionId) this.functionIds.set(runId, functionId);
    return functionId;
  }

  private async startAndRun(job: RunJob, runId: string, token: string | undefined): Promise<FunctionRunResult> {
    // A synchronous invoke (one attempt, its caller waiting) is read, not started: its state
    // is written once, with its outcome (docs/functions.md, Delivery guarantees). Other runs
    // are marked running first (a retry knows its attempt number, a poller sees it run).
    const single = job.data.sync === true && (job.opts.attempts ?? 1) === 1 && job.attemptsMade === 0;
    const peeked = single ? await this.runs.peek(runId) : null;
    const run: StartedRun | null = peeked ? { ...peeked, startedAt: new Date() } : await this.runs.start(runId);
    if (!run) {
      // Finished already (a duplicate or stale job), or its function was deleted.
      const done = await this.runs.load(runId);
      return done ? resultOf(done) : { runId, status: 'gone', durationMs: null };
    }
    const leaseMs = run.timeoutMs + 60_000;
    if (!(await this.slots.acquire(run.functionId, runId, run.concurrency, leaseMs))) {
      // The function is at its concurrency limit: try again shortly, without using an attempt.
      if (run.previousStatus) await this.runs.unstart(runId, run.previousStatus);
      await job.moveToDelayed(Date.now() + 50 + Math.floor(Math.random() * 100), token);
      throw new DelayedError();
    }
    try {
      return await this.attempt(job, run);
    } finally {
      void this.slots.release(run.functionId, runId);
    }
  }

  private async attempt(job: RunJob, run: StartedRun): Promise<FunctionRunResult> {
    const attempt = run.attempts;
    const code = await this.code(run.versionId);
    let env: Record<string, string> = {};
    if (run.secrets) {
      try {
        env = this.secrets.open(run.secrets);
      } catch {
        return this.record(job, run, attempt, {
          status: 'failed',
          durationMs: 0,
          logs: [],
          logsTruncated: false,
          error: { code: 'SECRETS_UNREADABLE', message: 'The secrets cannot be decrypted (FUNCTIONS_SECRET_KEY changed?)' },
        });
      }
    }
    const outcome = await this.sandbox.run({
      runToken: this.runToken(run),
      id: `${run.id}:${attempt}`,
      codeKey: run.versionId,
      code: code?.code ?? '',
      event: run.event,
      env,
      timeoutMs: run.timeoutMs,
      memoryMb: run.memoryMb,
      logLimitBytes: this.config.FUNCTIONS_LOG_LIMIT_BYTES,
    });
    if (outcome.error?.stack) outcome.error.stack = mapStack(outcome.error.stack, code?.map ?? null);
    this.metrics.attempt(outcome);
    return this.record(job, run, attempt, outcome);
  }

  /**
   * The credential of this run's ctx calls (never the service key): the function's own
   * identity, or, for an http run of a version whose trigger says runAs "caller", the caller
   * who invoked it (a signed-in user's session, or anonymous). Valid a little past the timeout.
   */
  private runToken(run: StartedRun): string {
    const actor = (run.event as { actor?: { type?: unknown } } | null)?.actor?.type; // the event the api wrote for the run
    let as: RunTokenClaims['as'];
    if (run.runAsCaller && run.trigger === 'http' && actor !== 'service') {
      as = run.invokedBy && run.invokedSession ? { userId: run.invokedBy, sessionId: run.invokedSession } : 'anonymous';
    }
    return mintRunToken(this.tokenSecret, { run: run.id, fn: run.functionId, exp: Date.now() + run.timeoutMs + RUN_TOKEN_GRACE_MS, ...(as ? { as } : {}) });
  }

  private async record(
    job: RunJob,
    run: StartedRun,
    attempt: number,
    raw: RunOutcome,
  ): Promise<FunctionRunResult> {
    const outcome = storableOutcome(raw);
    const succeeded = outcome.status === 'succeeded';
    const { status, retry } = attemptVerdict({
      outcome: outcome.status,
      attempt,
      maxAttempts: run.maxAttempts,
      jobAttemptsMade: job.attemptsMade,
      jobAttempts: job.opts.attempts ?? 1,
    });
    const error = outcome.error ?? null;
    await this.store(run, {
      status,
      startedAt: run.startedAt,
      durationMs: outcome.durationMs,
      cold: outcome.cold,
      cpuMs: outcome.cpuMs,
      memoryBytes: outcome.memoryBytes,
      logs: outcome.logs,
      logsTruncated: outcome.logsTruncated,
      result: succeeded ? (outcome.result ?? null) : null,
      error,
    });
    if (status === 'dead') {
      this.logger.warn({ msg: 'function run is dead (every attempt failed)', runId: run.id, functionId: run.functionId, attempts: attempt, code: error?.code });
    } else if (error?.code === 'SANDBOX_CRASHED') {
      this.logger.warn({ msg: 'function run lost its sandbox host', runId: run.id, functionId: run.functionId, attempt, error: error.message });
    }
    if (retry) {
      // BullMQ retries after the backoff; the run shows the failed attempt meanwhile.
      throw new Error(`${error?.code ?? 'FAILED'}: ${error?.message ?? 'the run failed'}`);
    }
    const result: FunctionRunResult = { runId: run.id, status, durationMs: outcome.durationMs };
    if (succeeded) result.result = outcome.result ?? null;
    if (error) result.error = { code: error.code, message: error.message };
    return result;
  }

  /**
   * Stores an attempt's outcome. The content is already storable (storableOutcome); should
   * the database still refuse it, the outcome is stored without its result and logs (and a
   * line saying why) rather than failing the attempt, which would run the function again.
   */
  private async store(run: RunContext, finish: RunFinish): Promise<void> {
    try {
      await this.runs.finish(run.id, finish);
    } catch (err) {
      const code = pgErrorOf(err)?.code;
      // Only a refusal of the content (class 22: data exception, 54: too complex); anything else is the database being unavailable.
      if (code === undefined || !/^(22|54)/.test(code)) throw err;
      this.logger.warn({ msg: 'function run outcome could not be stored as it is; stored without result and logs', runId: run.id, pgCode: code });
      await this.runs.finish(run.id, {
        ...finish,
        result: null,
        logs: [{ level: 'warn', message: `[the result and logs of this run could not be stored (${code})]`, at: new Date().toISOString() }],
        logsTruncated: true,
        error: finish.error ? { code: finish.error.code, message: finish.error.message.slice(0, 1000) } : null,
      });
    }
  }

  private async code(versionId: string): Promise<VersionCode | null> {
    const cached = this.codeCache.get(versionId);
    if (cached !== undefined) return cached;
    const row = await this.runs.code(versionId);
    if (row === null) return null;
    const code = { code: row.code, map: parseSourceMap(row.sourceMap) };
    this.codeCache.set(versionId, code);
    return code;
  }

  /** A job BullMQ gave up on outside the function (stalled too often): end its run too. */
  @OnWorkerEvent('failed')
  async onFailed(job: RunJob | undefined, err: Error): Promise<void> {
    if (!job || job.name !== FunctionsJob.Run) return;
    if (job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(err.message)) return;
    await this.runs
      .abandon(job.data.runId, { code: 'WORKER_LOST', message: `The queue gave up on the run: ${err.message.slice(0, 300)}` })
      .catch(() => undefined);
  }
}

/** The outcome with every string storable in Postgres (U+0000 and lone surrogates → U+FFFD). */
function storableOutcome(outcome: RunOutcome): RunOutcome {
  const error: RunError | undefined = outcome.error && {
    code: storableString(outcome.error.code),
    message: storableString(outcome.error.message),
    ...(outcome.error.stack ? { stack: storableString(outcome.error.stack) } : {}),
  };
  const logs: RunLogLine[] = outcome.logs.map((l) => ({ ...l, message: storableString(l.message) }));
  return { ...outcome, logs, error, result: outcome.result === undefined ? undefined : storableJson(outcome.result) };
}
