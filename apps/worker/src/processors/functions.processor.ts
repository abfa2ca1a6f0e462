import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { type RunStatus, SecretBox } from '#libs/functions';
import { type FunctionRunResult, FunctionsJob, type JobData, QueueName, REDIS } from '#libs/queue';
import { FunctionRunsRepository, type RunContext } from '../events/function-runs.repository.js';
import type { RunOutcome } from '../sandbox/protocol.js';
import { SandboxPool } from '../sandbox/sandbox-pool.js';

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

/** Version code by version id: versions never change, so this cache is never stale. */
const CODE_CACHE_SIZE = 100;

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
  private readonly codeCache = new Map<string, string>();

  constructor(
    private readonly runs: FunctionRunsRepository,
    private readonly sandbox: SandboxPool,
    private readonly slots: FunctionSlots,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
    this.secrets = SecretBox.fromConfig(config);
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
    this.worker.opts.lockDuration = this.config.FUNCTIONS_LOCK_MS;
    this.worker.opts.stalledInterval = Math.max(500, Math.floor(this.config.FUNCTIONS_LOCK_MS / 2));
    void this.worker.run().catch((err: unknown) => this.logger.error(err));
  }

  /** Lets the runs in flight finish before the sandbox hosts are stopped (onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  async process(job: RunJob, token?: string): Promise<FunctionRunResult> {
    if (job.name !== FunctionsJob.Run) throw new UnrecoverableError(`Unknown job ${job.name} on queue ${QueueName.Functions}`);
    const { runId } = job.data;
    const run = await this.runs.start(runId);
    if (!run) {
      // Finished already (a duplicate or stale job), or its function was deleted.
      const done = await this.runs.load(runId);
      return done ? resultOf(done) : { runId, status: 'gone', durationMs: null };
    }
    const leaseMs = run.timeoutMs + 60_000;
    if (!(await this.slots.acquire(run.functionId, runId, run.concurrency, leaseMs))) {
      // The function is at its concurrency limit: try again shortly, without using an attempt.
      await this.runs.unstart(runId, run.previousStatus);
      await job.moveToDelayed(Date.now() + 50 + Math.floor(Math.random() * 100), token);
      throw new DelayedError();
    }
    try {
      return await this.attempt(job, run);
    } finally {
      void this.slots.release(run.functionId, runId);
    }
  }

  private async attempt(job: RunJob, run: RunContext): Promise<FunctionRunResult> {
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
      id: `${run.id}:${attempt}`,
      codeKey: run.versionId,
      code: code ?? '',
      event: run.event,
      env,
      timeoutMs: run.timeoutMs,
      memoryMb: run.memoryMb,
      logLimitBytes: this.config.FUNCTIONS_LOG_LIMIT_BYTES,
    });
    return this.record(job, run, attempt, outcome);
  }

  private async record(
    job: RunJob,
    run: RunContext,
    attempt: number,
    outcome: RunOutcome,
  ): Promise<FunctionRunResult> {
    const succeeded = outcome.status === 'succeeded';
    const lastAttempt = attempt >= run.maxAttempts || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const status: RunStatus = succeeded || !lastAttempt || run.maxAttempts <= 1 ? outcome.status : 'dead';
    const error = outcome.error ?? null;
    await this.runs.finish(run.id, {
      status,
      durationMs: outcome.durationMs,
      logs: outcome.logs,
      logsTruncated: outcome.logsTruncated,
      result: succeeded ? (outcome.result ?? null) : null,
      error,
    });
    if (!succeeded && !lastAttempt) {
      // BullMQ retries after the backoff; the run shows the failed attempt meanwhile.
      throw new Error(`${error?.code ?? 'FAILED'}: ${error?.message ?? 'the run failed'}`);
    }
    const result: FunctionRunResult = { runId: run.id, status, durationMs: outcome.durationMs };
    if (succeeded) result.result = outcome.result ?? null;
    if (error) result.error = { code: error.code, message: error.message };
    return result;
  }

  private async code(versionId: string): Promise<string | null> {
    const cached = this.codeCache.get(versionId);
    if (cached !== undefined) return cached;
    const code = await this.runs.code(versionId);
    if (code !== null) {
      if (this.codeCache.size >= CODE_CACHE_SIZE) this.codeCache.delete(this.codeCache.keys().next().value!);
      this.codeCache.set(versionId, code);
    }
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

function resultOf(run: RunContext): FunctionRunResult {
  const result: FunctionRunResult = { runId: run.id, status: run.status, durationMs: run.durationMs };
  if (run.result !== null && run.result !== undefined) result.result = run.result;
  if (run.error) result.error = { code: run.error.code, message: run.error.message };
  return result;
}
