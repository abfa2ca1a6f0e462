import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL, Prisma, PrismaService } from '#libs/database';
import { insertRun, type NewRun, type Trigger } from '#libs/functions';

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

export interface NewVersion {
  language: string;
  source: string;
  code: string;
  triggers: Trigger[];
  timeoutMs: number;
  memoryMb: number;
  retries: number;
  backoffMs: number;
  concurrency: number;
  createdBy: string;
}

export interface RunRow {
  id: string;
  function: string;
  version: number;
  trigger: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  durationMs: number | null;
  logs: unknown;
  logsTruncated: boolean;
  result: unknown;
  error: unknown;
  eventId: string | null;
  event: unknown;
  replayOf: string | null;
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
  before?: { createdAt: Date; id: string };
  limit: number;
}

const RUN_COLUMNS = `r.id, f.name AS function, r.version, r.trigger, r.status, r.attempts, r.max_attempts AS "maxAttempts",
  r.duration_ms AS "durationMs", r.logs, r.logs_truncated AS "logsTruncated", r.result, r.error, r.event_id AS "eventId",
  r.event, r.replay_of AS "replayOf", r.function_id AS "functionId", r.version_id AS "versionId",
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
   * Adds a version and makes it current, replacing the triggers (and the secrets when
   * `sealedSecrets` is given), all in one transaction. Concurrent deploys of one function
   * serialise on its row. Returns whether the function was created.
   */
  async deploy(
    name: string,
    version: NewVersion,
    secrets: { sealed: string; names: string[] } | undefined,
  ): Promise<{ created: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO functions (name, current_version) VALUES (${name}, 0) ON CONFLICT (name) DO NOTHING`;
      const [row] = await tx.$queryRaw<{ id: string; current_version: number }[]>`
        SELECT id, current_version FROM functions WHERE name = ${name} FOR UPDATE`;
      const { id, current_version: previous } = row!;
      const next = previous + 1;
      await tx.functionVersion.create({
        data: {
          functionId: id,
          version: next,
          language: version.language,
          source: version.source,
          code: version.code,
          triggers: version.triggers,
          timeoutMs: version.timeoutMs,
          memoryMb: version.memoryMb,
          retries: version.retries,
          backoffMs: version.backoffMs,
          concurrency: version.concurrency,
          createdBy: version.createdBy,
        },
      });
      await tx.cloudFunction.update({
        where: { id },
        data: { currentVersion: next, ...(secrets ? { secrets: secrets.sealed, secretNames: secrets.names } : {}) },
      });
      await tx.functionTrigger.deleteMany({ where: { functionId: id } });
      if (version.triggers.length) {
        await tx.functionTrigger.createMany({ data: version.triggers.map((t) => triggerRow(id, t)) });
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
    caller: { admin: boolean; signedIn: boolean },
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
         INSERT INTO function_runs (id, function_id, version_id, version, trigger, event_id, event, max_attempts)
         SELECT $2, t."functionId", t."versionId", t.version, 'http', $2, $3::jsonb,
                CASE WHEN $4 THEN t.retries + 1 ELSE 1 END
           FROM t
          WHERE $5 OR t."httpAccess" = 'public' OR (t."httpAccess" = 'user' AND $6)
         RETURNING id
       )
       SELECT t.*, EXISTS (SELECT 1 FROM ins) AS created FROM t`,
      [name, run.id, JSON.stringify(run.event), run.async, caller.admin, caller.signedIn],
    );
    const row = rows[0];
    if (!row) return null;
    const { created, ...target } = row;
    return { target, created };
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

function triggerRow(functionId: string, t: Trigger): Prisma.FunctionTriggerCreateManyInput {
  switch (t.type) {
    case 'http':
      return { functionId, type: t.type, access: t.access ?? 'public' };
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
