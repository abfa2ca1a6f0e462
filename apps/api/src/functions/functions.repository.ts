import { Inject, Injectable } from '@nestjs/common';
import { type ExpressionBuilder, type Insertable, type QueryCreator, sql } from 'kysely';
import type pg from 'pg';
import { type DB, type Db, KYSELY, PG_POOL, type Prisma, prepare, PrismaService, withTransaction } from '#libs/database';
import { DEFAULT_HTTP_ACCESS, insertRun, type NewRun, normalizeTrigger, type Trigger } from '#libs/functions';

const VERSION_FIELDS = {
  id: true,
  version: true,
  language: true,
  triggers: true,
  timeoutMs: true,
  memoryMb: true,
  retries: true,
  backoffMs: true,
  concurrency: true,
  createdBy: true,
  rollbackOf: true,
  createdAt: true,
} as const;
export type VersionRecord = Prisma.FunctionVersionGetPayload<{ select: typeof VERSION_FIELDS }>;

export interface FunctionRecord {
  id: string;
  name: string;
  secretNames: string[];
  createdAt: Date;
  updatedAt: Date;
  current: VersionRecord & { source: string };
}

/** One function's metering of one UTC day (every attempt counts). */
export interface UsageDay {
  day: string;
  attempts: number;
  coldStarts: number;
  wallMs: number;
  cpuMs: number;
  memoryBytesMax: number;
  /** memoryMb × wall time, in GB-seconds (as Lambda bills). */
  gbSeconds: number;
}

/** Who invokes, as the access check needs it (admins and service keys may invoke anything). */
export interface HttpCaller {
  admin: boolean;
  /** The signed-in user and session, else null. */
  userId: string | null;
  sessionId: string | null;
  roles: string[];
}

/** What an invocation needs to know about a function, in one query. */
export interface InvokeTarget {
  functionId: string;
  versionId: string;
  version: number;
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  /** null when the function has no http trigger. */
  httpAccess: string | null;
}

/** The settings a version runs with (everything but its code). */
export interface VersionSettings {
  triggers: Trigger[];
  timeoutMs: number;
  memoryMb: number;
  retries: number;
  backoffMs: number;
  concurrency: number;
}

/** What a function gets when it is first deployed without a setting. */
export const DEFAULT_SETTINGS: VersionSettings = {
  triggers: [{ type: 'http' }],
  timeoutMs: 10_000,
  memoryMb: 128,
  retries: 2,
  backoffMs: 1000,
  concurrency: 10,
};

export interface VersionCode {
  language: string;
  source: string;
  code: string;
  sourceMap: string | null;
}

/**
 * A new version: new code (PUT) or not (PATCH, rollback), the settings it changes, and the
 * version it starts from (`fromVersion`, for a rollback; else the current one).
 */
export interface VersionChange {
  code?: VersionCode;
  settings: Partial<VersionSettings>;
  fromVersion?: number;
  createdBy: string;
}

export type VersionChangeResult = { created: boolean } | { missing: 'function' | 'version' };

/** A run as the api reads it (the row with its function's name), typed from the schema by RUN_SELECT. */
export type RunRow = Awaited<ReturnType<FunctionsRepository['runs']>>[number];

export interface RunFilter {
  functionId?: string;
  status?: string;
  trigger?: string;
  eventId?: string;
  invokedBy?: string;
  before?: { createdAt: Date; id: string };
  limit: number;
}

/**
 * The one select list of a run as the api shows it, over `function_runs r JOIN functions f`,
 * checked against the schema by the compiler: a new column is one entry here.
 */
const RUN_SELECT = [
  'r.id',
  'f.name as function',
  'r.version',
  'r.trigger',
  'r.status',
  'r.attempts',
  'r.max_attempts as maxAttempts',
  'r.duration_ms as durationMs',
  'r.cold',
  'r.cpu_ms as cpuMs',
  // bigint: pg answers it as a string; the API has always shown a number.
  sql<number | null>`r.memory_bytes::float8`.as('memoryBytes'),
  'r.logs',
  'r.logs_truncated as logsTruncated',
  'r.result',
  'r.error',
  'r.event_id as eventId',
  'r.event',
  'r.replay_of as replayOf',
  'r.invoked_by as invokedBy',
  // Whether the run's version lets its invoker read its logs (http trigger `callerLogs`).
  sql<boolean>`EXISTS (SELECT 1 FROM function_versions cv WHERE cv.id = r.version_id
    AND cv.triggers @> '[{"type": "http", "callerLogs": true}]'::jsonb)`.as('callerLogs'),
  'r.function_id as functionId',
  'r.version_id as versionId',
  'r.created_at as createdAt',
  'r.started_at as startedAt',
  'r.finished_at as finishedAt',
] as const;

/** A version's settings columns (VersionSettings), as settingsOf() reads them. */
const SETTINGS_SELECT = ['triggers', 'timeout_ms as timeoutMs', 'memory_mb as memoryMb', 'retries', 'backoff_ms as backoffMs', 'concurrency'] as const;

/** What an invocation needs of a function's current version, over `functions f JOIN function_versions v`. */
function invokeTargetSelect(eb: ExpressionBuilder<DB & { f: DB['functions']; v: DB['function_versions'] }, 'f' | 'v'>) {
  return [
    'f.id as functionId',
    'v.id as versionId',
    'v.version',
    'v.retries',
    'v.backoff_ms as backoffMs',
    'v.timeout_ms as timeoutMs',
    eb
      .selectFrom('function_triggers as tr')
      .select(sql<string>`COALESCE(tr.access, 'public')`.as('access'))
      .whereRef('tr.function_id', '=', 'f.id')
      .where('tr.type', '=', 'http')
      .limit(1)
      .as('httpAccess'),
  ] as const;
}

/** Functions joined to their current version (`f`, `v`). */
function currentVersionsOf(db: QueryCreator<DB>) {
  return db
    .selectFrom('functions as f')
    .innerJoin('function_versions as v', (j) => j.onRef('v.function_id', '=', 'f.id').onRef('v.version', '=', 'f.current_version'));
}

/**
 * The invoke hot path (prepared: libs/database/src/prepared.ts): the function's current
 * version and, when the caller may invoke it, the inserted queued run (`created`).
 */
const CREATE_HTTP_RUN = prepare(
  (
    db,
    a: { name: string; runId: string; event: string; async: boolean; admin: boolean; userId: string | null; sessionId: string | null; roles: string[] },
  ) =>
    db
      .with('t', (q) => currentVersionsOf(q).select(invokeTargetSelect).where('f.name', '=', a.name))
      .with('ins', (q) =>
        q
          .insertInto('function_runs')
          .columns(['id', 'function_id', 'version_id', 'version', 'trigger', 'event_id', 'event', 'max_attempts', 'invoked_by', 'invoked_session'])
          .expression((eb) =>
            eb
              .selectFrom('t')
              .select([
                sql<string>`${a.runId}::uuid`.as('id'),
                't.functionId',
                't.versionId',
                't.version',
                sql<string>`'http'`.as('trigger'),
                sql<string>`${a.runId}::uuid`.as('event_id'),
                sql<unknown>`${a.event}::jsonb`.as('event'),
                sql<number>`CASE WHEN ${a.async}::boolean THEN t.retries + 1 ELSE 1 END`.as('max_attempts'),
                sql<string | null>`${a.userId}::uuid`.as('invoked_by'),
                sql<string | null>`${a.sessionId}::uuid`.as('invoked_session'),
              ])
              .where((t) =>
                t.or([
                  sql<boolean>`${a.admin}::boolean`,
                  t('t.httpAccess', '=', 'public'),
                  t.and([t('t.httpAccess', '=', 'authenticated'), sql<boolean>`${a.userId}::uuid IS NOT NULL`]),
                  t.and([t('t.httpAccess', 'like', 'role:%'), sql<boolean>`substr(t."httpAccess", 6) = ANY(${a.roles}::text[])`]),
                ]),
              ),
          )
          .returning('id'),
      )
      .selectFrom('t')
      .selectAll('t')
      .select((eb) => eb.exists(eb.selectFrom('ins').select('ins.id')).$castTo<boolean>().as('created')),
);

/** Queries of functions, their versions, triggers and runs. */
@Injectable()
export class FunctionsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(KYSELY) private readonly db: Db,
  ) {}

  async findByName(name: string): Promise<FunctionRecord | null> {
    const fn = await this.prisma.cloudFunction.findUnique({
      where: { name },
      select: { id: true, name: true, secretNames: true, createdAt: true, updatedAt: true, currentVersion: true },
    });
    if (!fn) return null;
    const current = await this.prisma.functionVersion.findUnique({
      where: { functionId_version: { functionId: fn.id, version: fn.currentVersion } },
      select: { ...VERSION_FIELDS, source: true },
    });
    if (!current) return null;
    return { id: fn.id, name: fn.name, secretNames: fn.secretNames, createdAt: fn.createdAt, updatedAt: fn.updatedAt, current };
  }

  async findId(name: string): Promise<string | null> {
    const fn = await this.prisma.cloudFunction.findUnique({ where: { name }, select: { id: true } });
    return fn?.id ?? null;
  }

  /**
   * Adds a version and makes it current, in one transaction: its code and settings are the
   * base version's (the current one, or `fromVersion`) with the change applied, so a deploy
   * of source alone keeps triggers, limits and schedules. Replaces the trigger rows (and the
   * secrets when `secrets` is given). Concurrent changes of one function serialise on its
   * row, so none is lost. A function is created only by a change with code.
   */
  async addVersion(
    name: string,
    change: VersionChange,
    secrets: { sealed: string; names: string[] } | undefined,
  ): Promise<VersionChangeResult> {
    return withTransaction(this.pool, async ({ db }) => {
      if (change.code) {
        await db.insertInto('functions').values({ name, current_version: 0 }).onConflict((oc) => oc.column('name').doNothing()).execute();
      }
      const row = await db.selectFrom('functions').select(['id', 'current_version']).where('name', '=', name).forUpdate().executeTakeFirst();
      if (!row) return { missing: 'function' as const };
      const { id, current_version: previous } = row;
      const baseVersion = change.fromVersion ?? previous;
      const base =
        baseVersion > 0
          ? await db
              .selectFrom('function_versions')
              .select(['language', 'source', 'code', 'source_map as sourceMap', ...SETTINGS_SELECT])
              .where('function_id', '=', id)
              .where('version', '=', baseVersion)
              .executeTakeFirst()
          : undefined;
      if (change.fromVersion !== undefined && !base) return { missing: 'version' as const };
      const code = change.code ?? (base ? { language: base.language, source: base.source, code: base.code, sourceMap: base.sourceMap } : null);
      if (!code) return { missing: 'function' as const };
      const settings: VersionSettings = {
        ...DEFAULT_SETTINGS,
        ...(base ? settingsOf(base) : {}),
        ...definedOnly(change.settings),
      };
      const next = previous + 1;
      await db
        .insertInto('function_versions')
        .values({
          function_id: id,
          version: next,
          language: code.language,
          source: code.source,
          code: code.code,
          source_map: code.sourceMap,
          triggers: JSON.stringify(settings.triggers),
          timeout_ms: settings.timeoutMs,
          memory_mb: settings.memoryMb,
          retries: settings.retries,
          backoff_ms: settings.backoffMs,
          concurrency: settings.concurrency,
          created_by: change.createdBy,
          rollback_of: change.fromVersion ?? null,
        })
        .execute();
      await db
        .updateTable('functions')
        .set({
          current_version: next,
          updated_at: new Date(),
          ...(secrets ? { secrets: secrets.sealed, secret_names: secrets.names } : {}),
        })
        .where('id', '=', id)
        .execute();
      await db.deleteFrom('function_triggers').where('function_id', '=', id).execute();
      if (settings.triggers.length) {
        await db
          .insertInto('function_triggers')
          .values(settings.triggers.map((t) => triggerRow(id, t)))
          .execute();
      }
      return { created: previous === 0 };
    });
  }

  /** Functions by name, keyset-paged. */
  async list(limit: number, after: string | undefined): Promise<FunctionRecord[]> {
    const fns = await this.prisma.cloudFunction.findMany({
      where: after ? { name: { gt: after } } : {},
      orderBy: { name: 'asc' },
      take: limit,
      select: { id: true, name: true, secretNames: true, createdAt: true, updatedAt: true, currentVersion: true },
    });
    const versions = await this.prisma.functionVersion.findMany({
      where: { OR: fns.map((f) => ({ functionId: f.id, version: f.currentVersion })) },
      select: { ...VERSION_FIELDS, source: true, functionId: true },
    });
    const byFunction = new Map(versions.map((v) => [v.functionId, v]));
    return fns.flatMap((f) => {
      const current = byFunction.get(f.id);
      return current ? [{ id: f.id, name: f.name, secretNames: f.secretNames, createdAt: f.createdAt, updatedAt: f.updatedAt, current }] : [];
    });
  }

  listVersions(functionId: string): Promise<VersionRecord[]> {
    return this.prisma.functionVersion.findMany({ where: { functionId }, orderBy: { version: 'desc' }, select: VERSION_FIELDS });
  }

  /** Deletes the function with its versions, triggers, runs and receipts; false when missing. */
  async delete(name: string): Promise<boolean> {
    const { count } = await this.prisma.cloudFunction.deleteMany({ where: { name } });
    return count === 1;
  }

  /** The function's current version, as an invocation (or a replay) needs it. */
  async findInvokeTarget(name: string): Promise<InvokeTarget | null> {
    const row = await currentVersionsOf(this.db).select(invokeTargetSelect).where('f.name', '=', name).executeTakeFirst();
    return row ?? null;
  }

  /**
   * The invoke hot path in one round trip: finds the function's current version and, when
   * the caller may invoke it (`admin`, or an http trigger whose access the caller meets),
   * inserts the queued run. `created` false with a target means "not allowed".
   */
  async createHttpRun(
    name: string,
    run: { id: string; event: unknown; async: boolean },
    caller: HttpCaller,
  ): Promise<{ target: InvokeTarget; created: boolean } | null> {
    const [row] = await CREATE_HTTP_RUN.run(this.pool, {
      name,
      runId: run.id,
      event: JSON.stringify(run.event),
      async: run.async,
      admin: caller.admin,
      userId: caller.userId,
      sessionId: caller.sessionId,
      roles: caller.roles,
    });
    if (!row) return null;
    const { created, ...target } = row;
    return { target, created };
  }

  /** A function's metering per UTC day in [from, to], oldest first (the sum of the day's shards). */
  usage(functionId: string, from: string, to: string): Promise<UsageDay[]> {
    return this.db
      .selectFrom('function_usage_daily')
      .select([
        sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'),
        sql<number>`sum(attempts)::int`.as('attempts'),
        sql<number>`sum(cold_starts)::int`.as('coldStarts'),
        sql<number>`sum(wall_ms)::float8`.as('wallMs'),
        sql<number>`round(sum(cpu_ms)::numeric, 2)::float8`.as('cpuMs'),
        sql<number>`max(memory_bytes_max)::float8`.as('memoryBytesMax'),
        sql<number>`round((sum(memory_mb_ms) / 1024 / 1000)::numeric, 3)::float8`.as('gbSeconds'),
      ])
      .where('function_id', '=', functionId)
      .where(sql<boolean>`day BETWEEN ${from}::date AND ${to}::date`)
      .groupBy('day')
      .orderBy('day')
      .execute();
  }

  /** The latest run a schedule started, for the function's view. */
  async lastScheduledRun(functionId: string): Promise<{ runId: string; status: string; scheduledAt: string | null; createdAt: string } | null> {
    const row = await this.db
      .selectFrom('function_runs')
      .select(['id as runId', 'status', sql<string | null>`event->>'scheduledAt'`.as('scheduledAt'), 'created_at as createdAt'])
      .where('function_id', '=', functionId)
      .where('trigger', '=', 'schedule')
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { ...row, createdAt: row.createdAt.toISOString() } : null;
  }

  async failRun(id: string, error: { code: string; message: string }): Promise<void> {
    await this.db
      .updateTable('function_runs')
      .set({ status: 'failed', error: JSON.stringify(error), finished_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .execute();
  }

  createRun(run: NewRun): Promise<string> {
    return insertRun(this.db, run);
  }

  async findRun(id: string): Promise<RunRow | null> {
    const [row] = await this.runs({ id, limit: 1 });
    return row ?? null;
  }

  /** Runs newest first, keyset-paged by (created_at, id), with optional filters. */
  listRuns(filter: RunFilter): Promise<RunRow[]> {
    return this.runs(filter);
  }

  private runs(filter: RunFilter & { id?: string }) {
    let q = this.db.selectFrom('function_runs as r').innerJoin('functions as f', 'f.id', 'r.function_id').select(RUN_SELECT);
    if (filter.id) q = q.where('r.id', '=', filter.id);
    if (filter.functionId) q = q.where('r.function_id', '=', filter.functionId);
    if (filter.status) q = q.where('r.status', '=', filter.status);
    if (filter.trigger) q = q.where('r.trigger', '=', filter.trigger);
    if (filter.eventId) q = q.where('r.event_id', '=', filter.eventId);
    if (filter.invokedBy) q = q.where('r.invoked_by', '=', filter.invokedBy);
    const before = filter.before;
    if (before) q = q.where((eb) => eb(eb.refTuple('r.created_at', 'r.id'), '<', eb.tuple(before.createdAt, before.id)));
    return q.orderBy('r.created_at', 'desc').orderBy('r.id', 'desc').limit(filter.limit).execute();
  }
}

/** A stored version's settings (triggers as an older version may have written them). */
export function settingsOf(v: Omit<VersionSettings, 'triggers'> & { triggers: unknown }): VersionSettings {
  return {
    triggers: (v.triggers as Trigger[]).map(normalizeTrigger), // written from validated triggers by addVersion()
    timeoutMs: v.timeoutMs,
    memoryMb: v.memoryMb,
    retries: v.retries,
    backoffMs: v.backoffMs,
    concurrency: v.concurrency,
  };
}

function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function triggerRow(function_id: string, t: Trigger): Insertable<DB['function_triggers']> {
  switch (t.type) {
    case 'http':
      return { function_id, type: t.type, access: t.access ?? DEFAULT_HTTP_ACCESS };
    case 'db':
      return { function_id, type: t.type, target: t.collection, events: [...new Set(t.events)] };
    case 'storage':
      return { function_id, type: t.type, target: t.bucket, events: [...new Set(t.events)] };
    case 'auth':
      return { function_id, type: t.type, events: [...new Set(t.events)] };
    case 'schedule':
      return { function_id, type: t.type, cron: t.cron, timezone: t.timezone ?? 'UTC' };
  }
}
