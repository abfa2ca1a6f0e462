import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL, Prisma, PrismaService } from '#libs/database';
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

export interface RunRow {
  id: string;
  function: string;
  version: number;
  trigger: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  durationMs: number | null;
  cold: boolean | null;
  cpuMs: number | null;
  memoryBytes: number | null;
  logs: unknown;
  logsTruncated: boolean;
  result: unknown;
  error: unknown;
  eventId: string | null;
  event: unknown;
  replayOf: string | null;
  invokedBy: string | null;
  /** Whether the run's version lets its invoker read its logs (http trigger `callerLogs`). */
  callerLogs: boolean;
  functionId: string;
  versionId: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RunFilter {
  functionId?: string;
  status?: string;
  trigger?: string;
  eventId?: string;
  invokedBy?: string;
  before?: { createdAt: Date; id: string };
  limit: number;
}

const RUN_COLUMNS = `r.id, f.name AS function, r.version, r.trigger, r.status, r.attempts, r.max_attempts AS "maxAttempts",
  r.duration_ms AS "durationMs", r.cold, r.cpu_ms AS "cpuMs", r.memory_bytes::float8 AS "memoryBytes", r.logs, r.logs_truncated AS "logsTruncated", r.result, r.error, r.event_id AS "eventId",
  r.event, r.replay_of AS "replayOf", r.invoked_by AS "invokedBy",
  EXISTS (SELECT 1 FROM function_versions cv WHERE cv.id = r.version_id
           AND cv.triggers @> '[{"type": "http", "callerLogs": true}]'::jsonb) AS "callerLogs",
  r.function_id AS "functionId", r.version_id AS "versionId",
  r.created_at AS "createdAt", r.started_at AS "startedAt", r.finished_at AS "finishedAt"`;

/** Queries of functions, their versions, triggers and runs. */
@Injectable()
export class FunctionsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
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
    return this.prisma.$transaction(async (tx) => {
      if (change.code) {
        await tx.$executeRaw`INSERT INTO functions (name, current_version) VALUES (${name}, 0) ON CONFLICT (name) DO NOTHING`;
      }
      const [row] = await tx.$queryRaw<{ id: string; current_version: number }[]>`
        SELECT id, current_version FROM functions WHERE name = ${name} FOR UPDATE`;
      if (!row) return { missing: 'function' as const };
      const { id, current_version: previous } = row;
      const baseVersion = change.fromVersion ?? previous;
      const base =
        baseVersion > 0
          ? await tx.functionVersion.findUnique({
              where: { functionId_version: { functionId: id, version: baseVersion } },
              select: { ...VERSION_FIELDS, source: true, code: true, sourceMap: true },
            })
          : null;
      if (change.fromVersion !== undefined && !base) return { missing: 'version' as const };
      const code = change.code ?? (base ? { language: base.language, source: base.source, code: base.code, sourceMap: base.sourceMap } : null);
      if (!code) return { missing: 'function' as const };
      const settings: VersionSettings = {
        ...DEFAULT_SETTINGS,
        ...(base ? settingsOf(base) : {}),
        ...definedOnly(change.settings),
      };
      const next = previous + 1;
      await tx.functionVersion.create({
        data: {
          functionId: id,
          version: next,
          ...code,
          ...settings,
          createdBy: change.createdBy,
          rollbackOf: change.fromVersion ?? null,
        },
      });
      await tx.cloudFunction.update({
        where: { id },
        data: { currentVersion: next, ...(secrets ? { secrets: secrets.sealed, secretNames: secrets.names } : {}) },
      });
      await tx.functionTrigger.deleteMany({ where: { functionId: id } });
      if (settings.triggers.length) {
        await tx.functionTrigger.createMany({ data: settings.triggers.map((t) => triggerRow(id, t)) });
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

  /** The invoke hot path: hand-written SQL on the shared pool. */
  async findInvokeTarget(name: string): Promise<InvokeTarget | null> {
    const { rows } = await this.pool.query<InvokeTarget>(
      `SELECT f.id AS "functionId", v.id AS "versionId", v.version, v.retries, v.backoff_ms AS "backoffMs",
              v.timeout_ms AS "timeoutMs",
              (SELECT COALESCE(t.access, 'public') FROM function_triggers t
                WHERE t.function_id = f.id AND t.type = 'http' LIMIT 1) AS "httpAccess"
         FROM functions f
         JOIN function_versions v ON v.function_id = f.id AND v.version = f.current_version
        WHERE f.name = $1`,
      [name],
    );
    return rows[0] ?? null;
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
    const { rows } = await this.pool.query<InvokeTarget & { created: boolean }>(
      `WITH t AS (
         SELECT f.id AS "functionId", v.id AS "versionId", v.version, v.retries, v.backoff_ms AS "backoffMs",
                v.timeout_ms AS "timeoutMs",
                (SELECT COALESCE(tr.access, 'public') FROM function_triggers tr
                  WHERE tr.function_id = f.id AND tr.type = 'http' LIMIT 1) AS "httpAccess"
           FROM functions f
           JOIN function_versions v ON v.function_id = f.id AND v.version = f.current_version
          WHERE f.name = $1
       ), ins AS (
         INSERT INTO function_runs (id, function_id, version_id, version, trigger, event_id, event, max_attempts, invoked_by, invoked_session)
         SELECT $2, t."functionId", t."versionId", t.version, 'http', $2, $3::jsonb,
                CASE WHEN $4 THEN t.retries + 1 ELSE 1 END, $6::uuid, $8::uuid
           FROM t
          WHERE $5 OR t."httpAccess" = 'public'
             OR (t."httpAccess" = 'authenticated' AND $6::uuid IS NOT NULL)
             OR (t."httpAccess" LIKE 'role:%' AND substr(t."httpAccess", 6) = ANY($7::text[]))
         RETURNING id
       )
       SELECT t.*, EXISTS (SELECT 1 FROM ins) AS created FROM t`,
      [name, run.id, JSON.stringify(run.event), run.async, caller.admin, caller.userId, caller.roles, caller.sessionId],
    );
    const row = rows[0];
    if (!row) return null;
    const { created, ...target } = row;
    return { target, created };
  }

  /** A function's metering per UTC day in [from, to], oldest first. */
  async usage(functionId: string, from: string, to: string): Promise<UsageDay[]> {
    const { rows } = await this.pool.query<UsageDay>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, attempts, cold_starts AS "coldStarts", wall_ms::float8 AS "wallMs",
              round(cpu_ms::numeric, 2)::float8 AS "cpuMs", memory_bytes_max::float8 AS "memoryBytesMax",
              round((memory_mb_ms / 1024 / 1000)::numeric, 3)::float8 AS "gbSeconds"
         FROM function_usage_daily WHERE function_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day`,
      [functionId, from, to],
    );
    return rows;
  }

  /** The latest run a schedule started, for the function's view. */
  async lastScheduledRun(functionId: string): Promise<{ runId: string; status: string; scheduledAt: string | null; createdAt: string } | null> {
    const { rows } = await this.pool.query<{ runId: string; status: string; scheduledAt: string | null; createdAt: Date }>(
      `SELECT id AS "runId", status, event->>'scheduledAt' AS "scheduledAt", created_at AS "createdAt"
         FROM function_runs WHERE function_id = $1 AND trigger = 'schedule'
        ORDER BY created_at DESC LIMIT 1`,
      [functionId],
    );
    const row = rows[0];
    return row ? { ...row, createdAt: row.createdAt.toISOString() } : null;
  }

  async failRun(id: string, error: { code: string; message: string }): Promise<void> {
    await this.pool.query(
      `UPDATE function_runs SET status = 'failed', error = $2::jsonb, finished_at = now() WHERE id = $1 AND status = 'queued'`,
      [id, JSON.stringify(error)],
    );
  }

  createRun(run: NewRun): Promise<string> {
    return insertRun(this.pool, run);
  }

  async findRun(id: string): Promise<RunRow | null> {
    const { rows } = await this.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM function_runs r JOIN functions f ON f.id = r.function_id WHERE r.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Runs newest first, keyset-paged by (created_at, id), with optional filters. */
  async listRuns(filter: RunFilter): Promise<RunRow[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const bind = (v: unknown) => {
      values.push(v);
      return `$${values.length}`;
    };
    if (filter.functionId) where.push(`r.function_id = ${bind(filter.functionId)}`);
    if (filter.status) where.push(`r.status = ${bind(filter.status)}`);
    if (filter.trigger) where.push(`r.trigger = ${bind(filter.trigger)}`);
    if (filter.eventId) where.push(`r.event_id = ${bind(filter.eventId)}`);
    if (filter.invokedBy) where.push(`r.invoked_by = ${bind(filter.invokedBy)}`);
    if (filter.before) {
      where.push(`(r.created_at, r.id) < (${bind(filter.before.createdAt)}, ${bind(filter.before.id)})`);
    }
    const { rows } = await this.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM function_runs r JOIN functions f ON f.id = r.function_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY r.created_at DESC, r.id DESC LIMIT ${bind(filter.limit)}`,
      values,
    );
    return rows;
  }
}

/** A stored version's settings (triggers as an older version may have written them). */
export function settingsOf(v: VersionRecord): VersionSettings {
  return {
    triggers: (v.triggers as unknown as Trigger[]).map(normalizeTrigger), // written from validated triggers by addVersion()
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

function triggerRow(functionId: string, t: Trigger): Prisma.FunctionTriggerCreateManyInput {
  switch (t.type) {
    case 'http':
      return { functionId, type: t.type, access: t.access ?? DEFAULT_HTTP_ACCESS };
    case 'db':
      return { functionId, type: t.type, target: t.collection, events: [...new Set(t.events)] };
    case 'storage':
      return { functionId, type: t.type, target: t.bucket, events: [...new Set(t.events)] };
    case 'auth':
      return { functionId, type: t.type, events: [...new Set(t.events)] };
    case 'schedule':
      return { functionId, type: t.type, cron: t.cron, timezone: t.timezone ?? 'UTC' };
  }
}
