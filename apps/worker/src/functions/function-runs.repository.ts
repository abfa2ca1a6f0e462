import { randomInt } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import type pg from 'pg';
import { type Db, KYSELY, PG_POOL, prepare } from '#libs/database';
import type { FunctionEvent, RunError, RunJobSpec, RunLogLine, RunStatus } from '#libs/functions';

/** Whether the version's http trigger says runAs "caller" (a SQL fragment over `v`). */
const RUN_AS_CALLER = sql<boolean>`v.triggers @> '[{"type": "http", "runAs": "caller"}]'::jsonb`.as('runAsCaller');

/**
 * The one select list of what a worker needs to execute a run (load, start, peek), checked
 * against the schema by the compiler: a new column of function_runs a worker needs is one
 * entry here.
 */
const CONTEXT = [
  'r.id',
  'r.function_id as functionId',
  'r.version_id as versionId',
  'r.trigger',
  'r.status',
  'r.attempts',
  'r.max_attempts as maxAttempts',
  'r.event',
  'r.duration_ms as durationMs',
  'r.result',
  'r.error',
  'v.timeout_ms as timeoutMs',
  'v.memory_mb as memoryMb',
  'v.concurrency',
  'f.secrets',
  'r.invoked_by as invokedBy',
  'r.invoked_session as invokedSession',
  RUN_AS_CALLER,
] as const;

/** Rows a function's usage of a day is spread over (function_usage_daily.shard). */
const USAGE_SHARDS = 64;

/** The subscription columns of a function's current version. */
const SUBSCRIBER = ['f.id as functionId', 'v.id as versionId', 'v.version', 'v.retries', 'v.backoff_ms as backoffMs'] as const;

/** Runs joined to their version and function, selecting CONTEXT. */
function contexts(db: Db) {
  return db
    .selectFrom('function_runs as r')
    .innerJoin('function_versions as v', 'v.id', 'r.version_id')
    .innerJoin('functions as f', 'f.id', 'r.function_id')
    .select(CONTEXT);
}

/*
 * The statements of every run and every event, prepared (libs/database/src/prepared.ts):
 * built once here, planned once per pooled connection.
 */
const LOAD = prepare<{ runId: string }, ContextSelect>((db, a) => contexts(db).where('r.id', '=', a.runId));

const PEEK = prepare<{ runId: string }, ContextSelect>((db, a) =>
  contexts(db).where('r.id', '=', a.runId).where('r.status', '=', 'queued').where('r.max_attempts', '=', 1),
);

const FUNCTION_OF = prepare((db, a: { runId: string }) => db.selectFrom('function_runs').select('function_id').where('id', '=', a.runId));

const START = prepare((db, a: { runId: string }) =>
  db
    .with('prev', (q) => q.selectFrom('function_runs').select(['id', 'status']).where('id', '=', a.runId).forUpdate())
    .updateTable('function_runs as r')
    .from(['prev', 'function_versions as v', 'functions as f'])
    .set((eb) => ({ status: 'running', attempts: eb('r.attempts', '+', 1), started_at: sql<Date>`now()` }))
    .whereRef('r.id', '=', 'prev.id')
    .whereRef('v.id', '=', 'r.version_id')
    .whereRef('f.id', '=', 'r.function_id')
    .where('r.status', 'in', ['queued', 'running', 'failed', 'timed_out'])
    .where((eb) => eb.not(eb.and([eb('r.status', 'in', ['failed', 'timed_out']), eb('r.attempts', '>=', eb.ref('r.max_attempts'))])))
    .returning([...CONTEXT, 'prev.status as previousStatus']),
);

/** The arguments of FINISH: an attempt's outcome as stored (JSON already serialised). */
interface FinishArgs {
  runId: string;
  status: string;
  durationMs: number;
  logs: string;
  logsTruncated: boolean;
  result: string | null;
  error: string | null;
  cold: boolean | null;
  coldStarts: number;
  cpuMs: number | null;
  cpuMsSum: number;
  memoryBytes: string | null;
  memoryBytesMax: number;
  shard: number;
  startedAt: Date | null;
}

/**
 * Records an attempt's outcome and adds it to its function's usage of the day (UTC), in one
 * statement. `counted`: a run read by peek(), whose attempt and start are written here too.
 */
function finishStatement(counted: boolean) {
  return prepare((db, a: FinishArgs) =>
    db
      .with('r', (q) =>
        q
          .updateTable('function_runs')
          .set((eb) => ({
            status: a.status,
            duration_ms: a.durationMs,
            logs: a.logs,
            logs_truncated: a.logsTruncated,
            result: a.result,
            error: a.error,
            finished_at: sql<Date>`now()`,
            cold: a.cold,
            cpu_ms: a.cpuMs,
            memory_bytes: a.memoryBytes,
            ...(counted ? { attempts: eb('attempts', '+', 1), started_at: a.startedAt } : {}),
          }))
          .where('id', '=', a.runId)
          .returning(['function_id', 'version_id']),
      )
      .insertInto('function_usage_daily')
      .columns(['function_id', 'day', 'shard', 'attempts', 'cold_starts', 'wall_ms', 'cpu_ms', 'memory_bytes_max', 'memory_mb_ms'])
      .expression((eb) =>
        eb
          .selectFrom('r')
          .innerJoin('function_versions as v', 'v.id', 'r.version_id')
          .select([
            'r.function_id',
            sql<Date>`(now() AT TIME ZONE 'UTC')::date`.as('day'),
            sql<number>`${a.shard}::smallint`.as('shard'),
            sql<number>`1`.as('attempts'),
            sql<number>`${a.coldStarts}::int`.as('cold_starts'),
            sql<number>`${a.durationMs}::bigint`.as('wall_ms'),
            sql<number>`${a.cpuMsSum}::double precision`.as('cpu_ms'),
            sql<number>`${a.memoryBytesMax}::bigint`.as('memory_bytes_max'),
            sql<number>`${a.durationMs}::double precision * v.memory_mb`.as('memory_mb_ms'),
          ]),
      )
      .onConflict((oc) =>
        oc.columns(['function_id', 'day', 'shard']).doUpdateSet({
          attempts: sql`function_usage_daily.attempts + 1`,
          cold_starts: sql`function_usage_daily.cold_starts + excluded.cold_starts`,
          wall_ms: sql`function_usage_daily.wall_ms + excluded.wall_ms`,
          cpu_ms: sql`function_usage_daily.cpu_ms + excluded.cpu_ms`,
          memory_bytes_max: sql`GREATEST(function_usage_daily.memory_bytes_max, excluded.memory_bytes_max)`,
          memory_mb_ms: sql`function_usage_daily.memory_mb_ms + excluded.memory_mb_ms`,
        }),
      ),
  );
}
const FINISH = finishStatement(false);
const FINISH_COUNTED = finishStatement(true);

const SUBSCRIBERS = prepare((db, a: { type: string; target: string | null; operation: string }) =>
  db
    .selectFrom('function_triggers as t')
    .innerJoin('functions as f', 'f.id', 't.function_id')
    .innerJoin('function_versions as v', (j) => j.onRef('v.function_id', '=', 'f.id').onRef('v.version', '=', 'f.current_version'))
    .select(SUBSCRIBER)
    .distinct()
    .where('t.type', '=', a.type)
    .where(sql<boolean>`t.target IS NOT DISTINCT FROM ${a.target}::text`)
    .where(sql<boolean>`${a.operation}::text = ANY(t.events)`),
);

/** runsForEvents' statement: receipts, then runs for the receipts that are new (arrays: one element per pair). */
const RUNS_FOR_EVENTS = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::uuid[], $6::jsonb[], $7::int[])
    AS i(function_id, version_id, version, trigger, event_id, event, max_attempts)
), receipt AS (
  INSERT INTO function_event_receipts (function_id, event_id, run_id)
  SELECT function_id, event_id, gen_random_uuid() FROM input
  ON CONFLICT (function_id, event_id) DO NOTHING
  RETURNING function_id, event_id, run_id
)
INSERT INTO function_runs (id, function_id, version_id, version, trigger, event_id, event, max_attempts)
SELECT r.run_id, i.function_id, i.version_id, i.version, i.trigger, i.event_id, i.event, i.max_attempts
  FROM receipt r JOIN input i ON i.function_id = r.function_id AND i.event_id = r.event_id
RETURNING id, function_id, event_id`;

const EXISTING_RUN_FOR_EVENT = prepare((db, a: { functionId: string; eventId: string }) =>
  db
    .selectFrom('function_event_receipts as e')
    .leftJoin('function_runs as r', 'r.id', 'e.run_id')
    .select(['e.run_id', 'r.status'])
    .where('e.function_id', '=', a.functionId)
    .where('e.event_id', '=', a.eventId),
);

interface ContextRow {
  status: string;
  error: unknown;
}

/** The row of contexts(). */
type ContextSelect = Awaited<ReturnType<ReturnType<typeof contexts>['executeTakeFirstOrThrow']>>;

/** What a worker needs to execute a run (the code comes separately, cached per version). */
export type RunContext = Omit<ContextSelect, 'status' | 'error'> & {
  status: RunStatus;
  error: RunError | null;
};

/** A function subscribed to an event, with what creating its run needs. */
export interface Subscriber {
  functionId: string;
  versionId: string;
  version: number;
  retries: number;
  backoffMs: number;
}

export interface RunFinish {
  status: RunStatus;
  durationMs: number;
  /** Metering of the attempt (absent when it never reached a sandbox). */
  cold?: boolean;
  cpuMs?: number;
  memoryBytes?: number;
  /** Set for a run read by peek(): the attempt and its start are written here, with its outcome. */
  startedAt?: Date;
  logs: RunLogLine[];
  logsTruncated: boolean;
  result: unknown;
  error: RunError | null;
}

/** The worker's queries of function runs and event fan-out (Kysely over the shared pool). */
@Injectable()
export class FunctionRunsRepository {
  constructor(
    @Inject(KYSELY) private readonly db: Db,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  async load(runId: string): Promise<RunContext | null> {
    return contextOf((await LOAD.run(this.pool, { runId }))[0]);
  }

  async functionOf(runId: string): Promise<string | null> {
    const [row] = await FUNCTION_OF.run(this.pool, { runId });
    return row?.function_id ?? null;
  }

  async code(versionId: string): Promise<{ code: string; sourceMap: string | null } | null> {
    const row = await this.db
      .selectFrom('function_versions')
      .select(['code', 'source_map as sourceMap'])
      .where('id', '=', versionId)
      .executeTakeFirst();
    return row ?? null;
  }

  /**
   * Starts an attempt and returns what running it needs, in one round trip; null when the
   * run is finished or gone (a stale or duplicate job). `previousStatus` lets the caller
   * undo the start when the function has no free concurrency slot.
   */
  async start(runId: string): Promise<(RunContext & { previousStatus: RunStatus }) | null> {
    const [row] = await START.run(this.pool, { runId });
    const context = contextOf(row);
    return context && row ? { ...context, previousStatus: row.previousStatus as RunStatus } : null;
  }

  /**
   * What a synchronous invoke's run (one attempt) needs, read without writing: its state
   * is written once, by finish() (one commit instead of two). Null when it is no longer
   * queued (finished, or taken by another worker) or gone.
   */
  async peek(runId: string): Promise<RunContext | null> {
    const context = contextOf((await PEEK.run(this.pool, { runId }))[0]);
    return context ? { ...context, status: 'running', attempts: context.attempts + 1 } : null;
  }

  /** Undoes start() for a run that must wait for a concurrency slot. */
  async unstart(runId: string, previousStatus: RunStatus): Promise<void> {
    await this.db
      .updateTable('function_runs')
      .set((eb) => ({ status: previousStatus, attempts: eb('attempts', '-', 1) }))
      .where('id', '=', runId)
      .where('status', '=', 'running')
      .execute();
  }

  /**
   * Records an attempt's outcome and adds it to its function's usage of the day (UTC), in
   * one statement (one commit): the usage row is counted exactly when the outcome is. The
   * day's usage is one of USAGE_SHARDS rows picked at random, so concurrent runs of one
   * function do not queue on one row lock until each other's commit.
   */
  async finish(runId: string, f: RunFinish): Promise<void> {
    await (f.startedAt ? FINISH_COUNTED : FINISH).run(this.pool, {
      runId,
      status: f.status,
      durationMs: f.durationMs,
      logs: JSON.stringify(f.logs),
      logsTruncated: f.logsTruncated,
      result: f.result === undefined || f.result === null ? null : JSON.stringify(f.result),
      error: f.error ? JSON.stringify(f.error) : null,
      cold: f.cold ?? null,
      coldStarts: f.cold === true ? 1 : 0,
      cpuMs: f.cpuMs ?? null,
      cpuMsSum: f.cpuMs ?? 0,
      memoryBytes: f.memoryBytes === undefined ? null : String(f.memoryBytes),
      memoryBytesMax: f.memoryBytes ?? 0,
      shard: randomInt(USAGE_SHARDS),
      startedAt: f.startedAt ?? null,
    });
  }

  /** Ends a run the queue gave up on outside the function (e.g. it stalled too often). */
  async abandon(runId: string, error: RunError): Promise<void> {
    await this.db
      .updateTable('function_runs')
      .set({
        status: sql<string>`CASE WHEN max_attempts > 1 THEN 'dead' ELSE 'failed' END`,
        error: JSON.stringify(error),
        finished_at: sql<Date>`now()`,
      })
      .where('id', '=', runId)
      .where('status', 'in', ['queued', 'running', 'failed', 'timed_out'])
      .execute();
  }

  /** Functions whose current version has a trigger for this event (on a transaction's client, if given). */
  subscribers(type: string, target: string | null, operation: string, on: pg.Pool | pg.PoolClient = this.pool): Promise<Subscriber[]> {
    return SUBSCRIBERS.run(on, { type, target, operation });
  }

  /**
   * Creates the runs of a batch of (subscriber, event) pairs with their receipts in one
   * statement, on `on` (the relay's transaction, or the pool), and returns their jobs and how
   * many runs are new. A pair whose receipt
   * exists already (the event was taken on before) makes no run; its run is enqueued again
   * only while it is still queued (its job may have been lost).
   */
  async runsForEvents(
    runs: { sub: Subscriber; event: FunctionEvent }[],
    on: pg.Pool | pg.PoolClient = this.pool,
  ): Promise<{ jobs: RunJobSpec[]; created: number }> {
    if (runs.length === 0) return { jobs: [], created: 0 };
    const { rows } = await on.query<{ id: string; function_id: string; event_id: string }>({
      name: 'function_runs_for_events_v1',
      text: RUNS_FOR_EVENTS,
      values: [
        runs.map((r) => r.sub.functionId),
        runs.map((r) => r.sub.versionId),
        runs.map((r) => r.sub.version),
        runs.map((r) => r.event.type),
        runs.map((r) => r.event.id),
        runs.map((r) => JSON.stringify(r.event)),
        runs.map((r) => r.sub.retries + 1),
      ],
    });
    const spec = (runId: string, sub: Subscriber): RunJobSpec => ({ runId, functionId: sub.functionId, attempts: sub.retries + 1, backoffMs: sub.backoffMs });
    const byPair = new Map(runs.map((r) => [`${r.sub.functionId}/${r.event.id}`, r.sub]));
    const jobs = rows.map((row) => spec(row.id, byPair.get(`${row.function_id}/${row.event_id}`)!)); // every returned pair was in the input
    const created = new Set(rows.map((row) => `${row.function_id}/${row.event_id}`));
    for (const r of runs) {
      if (created.has(`${r.sub.functionId}/${r.event.id}`)) continue;
      const [existing] = await EXISTING_RUN_FOR_EVENT.run(on, { functionId: r.sub.functionId, eventId: r.event.id });
      if (existing?.status === 'queued') jobs.push(spec(existing.run_id, r.sub));
    }
    return { jobs, created: rows.length };
  }

  /** The current version of one function (for a schedule tick); null when it is gone. */
  async scheduled(functionId: string): Promise<Subscriber | null> {
    const row = await this.db
      .selectFrom('functions as f')
      .innerJoin('function_versions as v', (j) => j.onRef('v.function_id', '=', 'f.id').onRef('v.version', '=', 'f.current_version'))
      .select(SUBSCRIBER)
      .where('f.id', '=', functionId)
      .where((eb) =>
        eb.exists(eb.selectFrom('function_triggers as t').select('t.id').whereRef('t.function_id', '=', 'f.id').where('t.type', '=', 'schedule')),
      )
      .executeTakeFirst();
    return row ?? null;
  }

  /** Queued runs older than `olderThanMs` (their job may have been lost); for the sweeper. */
  staleQueued(olderThanMs: number, limit: number): Promise<{ id: string; maxAttempts: number; backoffMs: number }[]> {
    return this.db
      .selectFrom('function_runs as r')
      .innerJoin('function_versions as v', 'v.id', 'r.version_id')
      .select(['r.id', 'r.max_attempts as maxAttempts', 'v.backoff_ms as backoffMs'])
      .where('r.status', '=', 'queued')
      .where('r.created_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanMs}::double precision / 1000)`)
      .orderBy('r.created_at')
      .limit(limit)
      .execute();
  }
}

/** A context row with its status and error typed as the worker wrote them. */
function contextOf<R extends ContextRow>(row: R | undefined): (Omit<R, 'status' | 'error'> & { status: RunStatus; error: RunError | null }) | null {
  if (!row) return null;
  return { ...row, status: row.status as RunStatus, error: row.error as RunError | null }; // statuses and errors are written by this worker only
}
