import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { CronExpressionParser } from 'cron-parser';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { FINAL_STATUSES, type FunctionEvent, SecretBox, type Trigger } from '#libs/functions';
import { type FunctionRunResult, FunctionsJob, QueueName } from '#libs/queue';
import { actorOf, type Caller, isAdmin } from '../auth/caller.js';
import { isStorableDate } from '../common/safe-json.js';
import { AppException } from '../common/app-exception.js';
import type { DeployBody, ListRunsQuery } from './functions.dto.js';
import { FunctionsCompiler } from './functions.compiler.js';
import { FunctionsRepository, type FunctionRecord, type RunRow, type VersionRecord } from './functions.repository.js';
import { FunctionResults } from './functions.results.js';

/** How much longer than the function's own timeout a synchronous invoke waits (queueing). */
const SYNC_WAIT_GRACE_MS = 15_000;

export interface FunctionView {
  name: string;
  version: number;
  language: string;
  triggers: Trigger[];
  timeoutMs: number;
  memoryMb: number;
  retries: number;
  backoffMs: number;
  concurrency: number;
  secretNames: string[];
  createdAt: string;
  updatedAt: string;
  source?: string;
}

/** A run as the API shows it: the row without internal ids, dates as ISO strings, no null result/error. */
export type RunView = Omit<RunRow, 'functionId' | 'versionId' | 'result' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'> & {
  result?: unknown;
  error?: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

/** Deploying, invoking and inspecting functions. The api never runs their code. */
@Injectable()
export class FunctionsService {
  private readonly secrets: SecretBox;

  constructor(
    private readonly repo: FunctionsRepository,
    private readonly compiler: FunctionsCompiler,
    private readonly results: FunctionResults,
    @InjectQueue(QueueName.Functions) private readonly queue: Queue,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.secrets = SecretBox.fromConfig(config);
  }

  async deploy(caller: Caller, name: string, body: DeployBody): Promise<{ created: boolean; view: FunctionView }> {
    const compiled = this.compiler.compile(body.source, body.language);
    if (!compiled.ok) {
      throw new AppException(400, 'COMPILE_FAILED', 'The source does not compile', [{ path: 'source', message: compiled.message }]);
    }
    const triggers = body.triggers as Trigger[]; // the dto's discriminated union is exactly Trigger
    checkTriggers(triggers);
    const names = body.secrets ? Object.keys(body.secrets).sort() : undefined;
    const { created } = await this.repo.deploy(
      name,
      {
        language: body.language,
        source: body.source,
        code: compiled.code,
        triggers,
        timeoutMs: body.timeoutMs,
        memoryMb: body.memoryMb,
        retries: body.retries,
        backoffMs: body.backoffMs,
        concurrency: body.concurrency,
        createdBy: actorLabel(caller),
      },
      body.secrets && names ? { sealed: this.secrets.seal(body.secrets), names } : undefined,
    );
    const fn = await this.repo.findByName(name);
    if (!fn) throw notFound();
    return { created, view: toFunctionView(fn, false) };
  }

  async get(name: string): Promise<FunctionView> {
    const fn = await this.repo.findByName(name);
    if (!fn) throw notFound();
    return toFunctionView(fn, true);
  }

  async list(limit: number, cursor: string | undefined): Promise<{ items: FunctionView[]; nextCursor: string | null }> {
    const fns = await this.repo.list(limit, cursor);
    return { items: fns.map((f) => toFunctionView(f, false)), nextCursor: fns.length === limit ? fns.at(-1)!.name : null };
  }

  async versions(name: string): Promise<{ items: (Omit<VersionRecord, 'id' | 'createdAt'> & { createdAt: string })[]; nextCursor: null }> {
    const id = await this.repo.findId(name);
    if (!id) throw notFound();
    const versions = await this.repo.listVersions(id);
    return { items: versions.map(({ id: _id, ...v }) => ({ ...v, createdAt: v.createdAt.toISOString() })), nextCursor: null };
  }

  async delete(name: string): Promise<void> {
    if (!(await this.repo.delete(name))) throw notFound();
  }

  /**
   * Runs a function through its http trigger. Admins and the service role may invoke any
   * function (a manual run); others need an http trigger whose access they satisfy.
   * Synchronous: waits for the run and answers its outcome (one attempt, no retries).
   * Asynchronous: answers the run id at once; the run gets the function's retries.
   */
  async invoke(
    caller: Caller,
    name: string,
    payload: unknown,
    async: boolean,
  ): Promise<{ accepted: boolean; body: FunctionRunResult }> {
    const runId = randomUUID();
    const event: FunctionEvent = {
      id: runId,
      type: 'http',
      payload: payload ?? null,
      user:
        caller.kind === 'user'
          ? { id: caller.userId, email: caller.email, roles: caller.roles, aal: caller.aal ?? 'aal1', amr: caller.amr ?? [] }
          : null,
      actor: actorOf(caller),
    };
    const admin = isAdmin(caller);
    // The wait is registered before the job exists, so its completion cannot be missed.
    const waiter = async ? undefined : this.results.wait(runId, 300_000 + SYNC_WAIT_GRACE_MS);
    let found: Awaited<ReturnType<FunctionsRepository['createHttpRun']>>;
    try {
      found = await this.repo.createHttpRun(name, { id: runId, event, async }, { admin, signedIn: caller.kind !== 'anonymous' });
      if (!found || !found.created) {
        if (!found || admin || found.target.httpAccess === null) throw notFound();
        if (found.target.httpAccess === 'user') throw new AppException(401, 'UNAUTHENTICATED', 'Sign in to invoke this function');
        throw new AppException(403, 'FORBIDDEN', 'You may not invoke this function');
      }
      await this.enqueue(runId, async ? found.target.retries + 1 : 1, found.target.backoffMs).catch(async () => {
        // Without its job the run would wait for the sweeper; the caller is told now instead.
        await this.repo.failRun(runId, { code: 'QUEUE_UNAVAILABLE', message: 'The run could not be queued' }).catch(() => undefined);
        throw new AppException(503, 'QUEUE_UNAVAILABLE', 'The function could not be queued; try again');
      });
    } catch (err) {
      waiter?.cancel();
      throw err;
    }
    waiter?.extend(found.target.timeoutMs + SYNC_WAIT_GRACE_MS);
    if (!waiter) return { accepted: true, body: { runId, status: 'queued', durationMs: null } };
    const result = (await waiter.result) ?? (await this.runResult(runId));
    const final = (FINAL_STATUSES as readonly string[]).includes(result.status);
    return { accepted: !final, body: result };
  }

  async getRun(id: string): Promise<RunView> {
    const run = await this.repo.findRun(id);
    if (!run) throw runNotFound();
    return toRunView(run);
  }

  async listRuns(query: ListRunsQuery & { functionName?: string }): Promise<{ items: RunView[]; nextCursor: string | null }> {
    const fnName = query.functionName ?? query.function;
    let functionId: string | undefined;
    if (fnName) {
      functionId = (await this.repo.findId(fnName)) ?? undefined;
      if (!functionId) throw notFound();
    }
    const rows = await this.repo.listRuns({
      functionId,
      status: query.status,
      trigger: query.trigger,
      eventId: query.eventId,
      before: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit,
    });
    const last = rows.at(-1);
    return {
      items: rows.map(toRunView),
      nextCursor: rows.length === query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  /**
   * Replays a finished, unsuccessful run with the same event, as a new run of the function's
   * current version (so a fixed deploy can be replayed). The old run keeps its record.
   */
  async retry(id: string): Promise<FunctionRunResult & { replayOf: string }> {
    const run = await this.repo.findRun(id);
    if (!run) throw runNotFound();
    if (!(['dead', 'failed', 'timed_out'] as string[]).includes(run.status)) {
      throw new AppException(409, 'RUN_NOT_RETRYABLE', `Only dead, failed or timed-out runs can be replayed (this one is ${run.status})`);
    }
    const target = await this.repo.findInvokeTarget(run.function);
    if (!target) throw notFound();
    const maxAttempts = target.retries + 1;
    const runId = await this.repo.createRun({
      functionId: target.functionId,
      versionId: target.versionId,
      version: target.version,
      trigger: run.trigger,
      eventId: run.eventId,
      event: run.event,
      maxAttempts,
      replayOf: run.id,
    });
    await this.enqueue(runId, maxAttempts, target.backoffMs);
    return { runId, status: 'queued', durationMs: null, replayOf: run.id };
  }

  private async enqueue(runId: string, attempts: number, backoffMs: number): Promise<void> {
    await this.queue.add(
      FunctionsJob.Run,
      { runId },
      { jobId: runId, attempts, backoff: { type: 'exponential', delay: backoffMs } },
    );
  }

  private async runResult(runId: string): Promise<FunctionRunResult> {
    const run = await this.repo.findRun(runId);
    if (!run) throw runNotFound();
    return invocationOf(run);
  }
}

function checkTriggers(triggers: Trigger[]): void {
  triggers.forEach((t, i) => {
    if (t.type !== 'schedule') return;
    const timezone = t.timezone ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', [
        { path: `triggers.${i}.timezone`, message: 'must be an IANA time zone such as Europe/Paris' },
      ]);
    }
    try {
      CronExpressionParser.parse(t.cron, { tz: timezone }).next();
    } catch (err) {
      throw new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', [
        { path: `triggers.${i}.cron`, message: err instanceof Error ? err.message : 'is not a valid cron expression' },
      ]);
    }
  });
  if (triggers.filter((t) => t.type === 'http').length > 1) {
    throw new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', [
      { path: 'triggers', message: 'at most one http trigger' },
    ]);
  }
}

function actorLabel(caller: Caller): string {
  if (caller.kind === 'user') return `user:${caller.userId}`;
  if (caller.kind === 'service') return `service:${caller.keyId}`;
  return 'anonymous';
}

function notFound(): AppException {
  return new AppException(404, 'FUNCTION_NOT_FOUND', 'No such function');
}

function runNotFound(): AppException {
  return new AppException(404, 'RUN_NOT_FOUND', 'No such run');
}

function toFunctionView(fn: FunctionRecord, withSource: boolean): FunctionView {
  const v = fn.current;
  return {
    name: fn.name,
    version: v.version,
    language: v.language,
    triggers: v.triggers as unknown as Trigger[], // written from validated triggers by deploy()
    timeoutMs: v.timeoutMs,
    memoryMb: v.memoryMb,
    retries: v.retries,
    backoffMs: v.backoffMs,
    concurrency: v.concurrency,
    secretNames: fn.secretNames,
    createdAt: fn.createdAt.toISOString(),
    updatedAt: fn.updatedAt.toISOString(),
    ...(withSource ? { source: v.source } : {}),
  };
}

export function toRunView(run: RunRow): RunView {
  const { functionId: _functionId, versionId: _versionId, result, error, createdAt, startedAt, finishedAt, ...rest } = run;
  return {
    ...rest,
    ...(result !== null ? { result } : {}),
    ...(error !== null ? { error } : {}),
    createdAt: createdAt.toISOString(),
    startedAt: startedAt?.toISOString() ?? null,
    finishedAt: finishedAt?.toISOString() ?? null,
  };
}

function invocationOf(run: RunRow): FunctionRunResult {
  const body: FunctionRunResult = { runId: run.id, status: run.status, durationMs: run.durationMs };
  if (run.result !== null) body.result = run.result;
  if (run.error !== null) body.error = run.error as FunctionRunResult['error'];
  return body;
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || !isStorableDate(createdAt)) {
    throw new AppException(400, 'VALIDATION_FAILED', 'The request is not valid', [{ path: 'cursor', message: 'is not a cursor from this list' }]);
  }
  return { createdAt, id };
}
