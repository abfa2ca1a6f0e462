import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { CronExpressionParser } from 'cron-parser';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { enqueueRun, FINAL_STATUSES, type FunctionEvent, normalizeTrigger, resultOf, SecretBox, type Trigger } from '#libs/functions';
import { type FunctionRunResult, QueueName } from '#libs/queue';
import { actorLabel, actorOf, type Caller, isAdmin } from '../auth/caller.js';
import { AppException, conflict, forbidden, notFound, validationFailed } from '../common/app-exception.js';
import { decodeCursor, pageOf } from '../common/paging.js';
import { timeIdCursor, timeIdPosition } from '../common/time-id-cursor.js';
import { type DeployBody, functionName, type ListRunsQuery, type PatchBody, type UsageQuery } from './functions.dto.js';
import { FunctionsCompiler } from './functions.compiler.js';
import {
  FunctionsRepository,
  type FunctionRecord,
  type RunRow,
  type UsageDay,
  type VersionChange,
  type VersionRecord,
  type VersionSettings,
  settingsOf,
} from './functions.repository.js';
import { FunctionResults } from './functions.results.js';

/** How much longer than the function's own timeout a synchronous invoke waits (queueing). */
const SYNC_WAIT_GRACE_MS = 15_000;

export interface FunctionView extends VersionSettings {
  name: string;
  version: number;
  language: string;
  /** The version this one copied, when it is a rollback. */
  rollbackOf: number | null;
  secretNames: string[];
  createdAt: string;
  updatedAt: string;
  source?: string;
  /** Schedule triggers with their next tick (only when the function has one). */
  schedules?: ScheduleView[];
  lastScheduledRun?: ScheduledRunView | null;
}

export interface ScheduledRunView {
  runId: string;
  status: string;
  scheduledAt: string | null;
  createdAt: string;
}

export interface ScheduleView {
  cron: string;
  timezone: string;
  nextRunAt: string | null;
}

/** A run as the user who invoked it sees it: no event, no stack, logs only when the function allows. */
export interface CallerRunView {
  id: string;
  function: string;
  version: number;
  status: string;
  durationMs: number | null;
  cold: boolean | null;
  result?: unknown;
  error?: { code: string; message: string };
  logs?: unknown;
  logsTruncated?: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A run as the API shows it: the row without internal ids, dates as ISO strings, no null result/error. */
export type RunView = Omit<RunRow, 'functionId' | 'versionId' | 'invokedBy' | 'callerLogs' | 'result' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'> & {
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

  /**
   * PUT: new code. Settings the body leaves out keep their current values (the defaults for
   * a new function); `secrets` replaces them when given.
   */
  async deploy(caller: Caller, name: string, body: DeployBody): Promise<{ created: boolean; view: FunctionView }> {
    const compiled = this.compiler.compile(body.source, body.language ?? 'ts');
    if (!compiled.ok) {
      throw new AppException(400, 'COMPILE_FAILED', 'The source does not compile', [{ path: 'source', message: compiled.message }]);
    }
    const { source: _source, language, secrets, ...settings } = body;
    // The language of a redeploy that does not name one: TypeScript, which also reads JavaScript.
    const code = { language: language ?? 'ts', source: body.source, code: compiled.code, sourceMap: compiled.map };
    return this.change(caller, name, { code, settings: this.checkedSettings(settings) }, secrets);
  }

  /** PATCH: settings only; the code stays. A new version all the same (versions are immutable). */
  async patch(caller: Caller, name: string, body: PatchBody): Promise<FunctionView> {
    const { secrets, ...settings } = body;
    return (await this.change(caller, name, { settings: this.checkedSettings(settings) }, secrets)).view;
  }

  /** Makes an earlier version's code and settings current again, as a new version. Secrets stay. */
  async rollback(caller: Caller, name: string, version: number): Promise<FunctionView> {
    return (await this.change(caller, name, { settings: {}, fromVersion: version }, undefined)).view;
  }

  private checkedSettings(settings: Omit<PatchBody, 'secrets'>): Partial<VersionSettings> {
    if (!settings.triggers) return { ...settings, triggers: undefined };
    const triggers = settings.triggers.map((t) => normalizeTrigger(t as Trigger)); // the dto's union is Trigger plus the old access names
    checkTriggers(triggers);
    return { ...settings, triggers };
  }

  private async change(
    caller: Caller,
    name: string,
    change: Omit<VersionChange, 'createdBy'>,
    secrets: Record<string, string> | undefined,
  ): Promise<{ created: boolean; view: FunctionView }> {
    const sealed = secrets ? { sealed: this.secrets.seal(secrets), names: Object.keys(secrets).sort() } : undefined;
    const outcome = await this.repo.addVersion(name, { ...change, createdBy: actorLabel(caller) }, sealed);
    if ('missing' in outcome) {
      if (outcome.missing === 'version') throw notFound('FUNCTION_VERSION_NOT_FOUND', 'The function has no such version');
      throw functionNotFound();
    }
    return { created: outcome.created, view: await this.get(name, false) };
  }

  async get(name: string, withSource = true): Promise<FunctionView> {
    const fn = await this.repo.findByName(name);
    if (!fn) throw functionNotFound();
    const view = toFunctionView(fn, withSource);
    if (view.triggers.some((t) => t.type === 'schedule')) {
      view.schedules = schedulesOf(view.triggers);
      view.lastScheduledRun = await this.repo.lastScheduledRun(fn.id);
    }
    return view;
  }

  async list(limit: number, cursor: string | undefined): Promise<{ items: FunctionView[]; nextCursor: string | null }> {
    // The position is the last name on the page (names are unique and the list is in name order).
    const after = cursor === undefined ? undefined : decodeCursor(cursor, (v) => (functionName.safeParse(v).success ? (v as string) : undefined));
    const page = pageOf(await this.repo.list(limit + 1, after), limit, (last) => last.name);
    return { items: page.items.map((f) => toFunctionView(f, false)), nextCursor: page.nextCursor };
  }

  async versions(name: string): Promise<{ items: (Omit<VersionRecord, 'id' | 'createdAt'> & { createdAt: string })[]; nextCursor: null }> {
    const id = await this.repo.findId(name);
    if (!id) throw functionNotFound();
    const versions = await this.repo.listVersions(id);
    return { items: versions.map(({ id: _id, ...v }) => ({ ...v, createdAt: v.createdAt.toISOString() })), nextCursor: null };
  }

  /** Metering per day (UTC) between two dates, both included (at most 366 days). */
  async usage(name: string, query: UsageQuery): Promise<{ function: string; from: string; to: string; items: UsageDay[]; total: Omit<UsageDay, 'day'> }> {
    const id = await this.repo.findId(name);
    if (!id) throw functionNotFound();
    const to = query.to ?? new Date().toISOString().slice(0, 10);
    const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
    const span = (Date.parse(to) - Date.parse(from)) / 86_400_000;
    if (span < 0 || span > 365) {
      throw validationFailed('The request is not valid', [{ path: 'from', message: 'must be on or before `to`, at most 366 days before it' }]);
    }
    const items = await this.repo.usage(id, from, to);
    const sum = (key: 'attempts' | 'coldStarts' | 'wallMs' | 'cpuMs' | 'gbSeconds') =>
      Math.round(items.reduce((n, d) => n + d[key], 0) * 1000) / 1000;
    return {
      function: name,
      from,
      to,
      items,
      total: {
        attempts: sum('attempts'),
        coldStarts: sum('coldStarts'),
        wallMs: sum('wallMs'),
        cpuMs: sum('cpuMs'),
        memoryBytesMax: items.reduce((n, d) => Math.max(n, d.memoryBytesMax), 0),
        gbSeconds: sum('gbSeconds'),
      },
    };
  }

  async delete(name: string): Promise<void> {
    if (!(await this.repo.delete(name))) throw functionNotFound();
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
      const userId = caller.kind === 'user' ? caller.userId : null;
      found = await this.repo.createHttpRun(
        name,
        { id: runId, event, async },
        { admin, userId, sessionId: caller.kind === 'user' ? caller.sessionId : null, roles: caller.kind === 'user' ? caller.roles : [] },
      );
      if (!found || !found.created) {
        if (!found || admin || found.target.httpAccess === null) throw functionNotFound();
        if (caller.kind === 'anonymous') throw new AppException(401, 'UNAUTHENTICATED', 'Sign in to invoke this function');
        throw forbidden('You may not invoke this function');
      }
      const { functionId, retries, backoffMs } = found.target;
      await enqueueRun(this.queue, { runId, functionId, attempts: async ? retries + 1 : 1, backoffMs, sync: !async }).catch(async () => {
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

  /**
   * A run. Admins and service keys read every run; a signed-in user reads the runs they
   * invoked (status, result, error code and message, and the logs when the function's http
   * trigger has `callerLogs`), and any other run answers 404 as a missing one does.
   */
  async getRun(caller: Caller, id: string): Promise<RunView | CallerRunView> {
    const run = await this.repo.findRun(id);
    if (!run) throw runNotFound();
    if (isAdmin(caller)) return toRunView(run);
    if (caller.kind !== 'user' || run.invokedBy !== caller.userId) throw runNotFound();
    return toCallerRunView(run);
  }

  async listRuns(
    caller: Caller,
    query: ListRunsQuery & { functionName?: string },
  ): Promise<{ items: (RunView | CallerRunView)[]; nextCursor: string | null }> {
    const admin = isAdmin(caller);
    const fnName = query.functionName ?? query.function;
    let functionId: string | undefined;
    if (fnName) {
      functionId = (await this.repo.findId(fnName)) ?? undefined;
      if (!functionId) throw functionNotFound();
    }
    const rows = await this.repo.listRuns({
      functionId,
      status: query.status,
      trigger: query.trigger,
      eventId: query.eventId,
      // A signed-in user lists the runs they invoked, and only those.
      invokedBy: admin ? undefined : caller.kind === 'user' ? caller.userId : '00000000-0000-0000-0000-000000000000',
      before: query.cursor ? decodeCursor(query.cursor, timeIdPosition) : undefined,
      limit: query.limit + 1,
    });
    const page = pageOf(rows, query.limit, timeIdCursor);
    return {
      items: page.items.map((r): RunView | CallerRunView => (admin ? toRunView(r) : toCallerRunView(r))),
      nextCursor: page.nextCursor,
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
      throw conflict('RUN_NOT_RETRYABLE', `Only dead, failed or timed-out runs can be replayed (this one is ${run.status})`);
    }
    const target = await this.repo.findInvokeTarget(run.function);
    if (!target) throw functionNotFound();
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
    await enqueueRun(this.queue, { runId, functionId: target.functionId, attempts: maxAttempts, backoffMs: target.backoffMs });
    return { runId, status: 'queued', durationMs: null, replayOf: run.id };
  }

  private async runResult(runId: string): Promise<FunctionRunResult> {
    const run = await this.repo.findRun(runId);
    if (!run) throw runNotFound();
    return resultOf(run);
  }
}

function checkTriggers(triggers: Trigger[]): void {
  triggers.forEach((t, i) => {
    if (t.type !== 'schedule') return;
    const timezone = t.timezone ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw validationFailed('The request is not valid', [{ path: `triggers.${i}.timezone`, message: 'must be an IANA time zone such as Europe/Paris' }]);
    }
    try {
      CronExpressionParser.parse(t.cron, { tz: timezone }).next();
    } catch (err) {
      throw validationFailed('The request is not valid', [
        { path: `triggers.${i}.cron`, message: err instanceof Error ? err.message : 'is not a valid cron expression' },
      ]);
    }
  });
  if (triggers.filter((t) => t.type === 'http').length > 1) {
    throw validationFailed('The request is not valid', [{ path: 'triggers', message: 'at most one http trigger' }]);
  }
}

function functionNotFound(): AppException {
  return notFound('FUNCTION_NOT_FOUND', 'No such function');
}

function runNotFound(): AppException {
  return notFound('RUN_NOT_FOUND', 'No such run');
}

function toFunctionView(fn: FunctionRecord, withSource: boolean): FunctionView {
  const v = fn.current;
  return {
    name: fn.name,
    version: v.version,
    language: v.language,
    ...settingsOf(v),
    rollbackOf: v.rollbackOf,
    secretNames: fn.secretNames,
    createdAt: fn.createdAt.toISOString(),
    updatedAt: fn.updatedAt.toISOString(),
    ...(withSource ? { source: v.source } : {}),
  };
}

export function toRunView(run: RunRow): RunView {
  const { functionId: _functionId, versionId: _versionId, invokedBy: _invokedBy, callerLogs: _callerLogs, result, error, createdAt, startedAt, finishedAt, ...rest } = run;
  return {
    ...rest,
    ...(result !== null ? { result } : {}),
    ...(error !== null ? { error } : {}),
    createdAt: createdAt.toISOString(),
    startedAt: startedAt?.toISOString() ?? null,
    finishedAt: finishedAt?.toISOString() ?? null,
  };
}

export function toCallerRunView(run: RunRow): CallerRunView {
  const error = run.error as { code: string; message: string } | null; // written by the worker as RunError
  return {
    id: run.id,
    function: run.function,
    version: run.version,
    status: run.status,
    durationMs: run.durationMs,
    cold: run.cold,
    ...(run.result !== null ? { result: run.result } : {}),
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
    ...(run.callerLogs ? { logs: run.logs, logsTruncated: run.logsTruncated } : {}),
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

/** Each schedule trigger with its next tick from now (cron-parser, in its time zone). */
function schedulesOf(triggers: Trigger[]): ScheduleView[] {
  return triggers.flatMap((t) => {
    if (t.type !== 'schedule') return [];
    const timezone = t.timezone ?? 'UTC';
    let nextRunAt: string | null = null;
    try {
      nextRunAt = CronExpressionParser.parse(t.cron, { tz: timezone }).next().toDate().toISOString();
    } catch {
      // validated on deploy; an expression that stopped parsing has no next run
    }
    return [{ cron: t.cron, timezone, nextRunAt }];
  });
}

