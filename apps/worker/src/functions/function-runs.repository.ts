import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '#libs/database';
import type { RunError, RunLogLine, RunStatus } from '#libs/functions';

/** What a worker needs to execute a run (the code comes separately, cached per version). */
export interface RunContext {
  id: string;
  functionId: string;
  versionId: string;
  trigger: string;
  status: RunStatus;
  attempts: number;
  maxAttempts: number;
  event: unknown;
  durationMs: number | null;
  result: unknown;
  error: RunError | null;
  timeoutMs: number;
  memoryMb: number;
  concurrency: number;
  secrets: string | null;
  /** The user (and session) who invoked an http run, for a function that acts as its caller. */
  invokedBy: string | null;
  invokedSession: string | null;
  /** The version's http trigger says runAs "caller". */
  runAsCaller: boolean;
}

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

/** The worker's SQL for function runs and event fan-out (hand-written, on the shared pool). */
@Injectable()
export class FunctionRunsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async load(runId: string): Promise<RunContext | null> {
    const { rows } = await this.pool.query<RunContext>(
      `SELECT r.id, r.function_id AS "functionId", r.version_id AS "versionId", r.trigger, r.status, r.attempts,
              r.max_attempts AS "maxAttempts", r.event, r.duration_ms AS "durationMs", r.result, r.error,
              v.timeout_ms AS "timeoutMs", v.memory_mb AS "memoryMb", v.concurrency, f.secrets, r.invoked_by AS "invokedBy", r.invoked_session AS "invokedSession",
              v.triggers @> '[{"type": "http", "runAs": "caller"}]'::jsonb AS "runAsCaller"
         FROM function_runs r
         JOIN function_versions v ON v.id = r.version_id
         JOIN functions f ON f.id = r.function_id
        WHERE r.id = $1`,
      [runId],
    );
    return rows[0] ?? null;
  }

  async functionOf(runId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ functionId: string }>('SELECT function_id AS "functionId" FROM function_runs WHERE id = $1', [runId]);
    return rows[0]?.functionId ?? null;
  }

  async code(versionId: string): Promise<{ code: string; sourceMap: string | null } | null> {
    const { rows } = await this.pool.query<{ code: string; sourceMap: string | null }>(
      'SELECT code, source_map AS "sourceMap" FROM function_versions WHERE id = $1',
      [versionId],
    );
    return rows[0] ?? null;
  }

  /**
   * Starts an attempt and returns what running it needs, in one round trip; null when the
   * run is finished or gone (a stale or duplicate job). `previousStatus` lets the caller
   * undo the start when the function has no free concurrency slot.
   */
  async start(runId: string): Promise<(RunContext & { previousStatus: RunStatus }) | null> {
    const { rows } = await this.pool.query<RunContext & { previousStatus: RunStatus }>(
      `WITH prev AS (SELECT id, status FROM function_runs WHERE id = $1 FOR UPDATE)
       UPDATE function_runs r SET status = 'running', attempts = r.attempts + 1, started_at = now()
         FROM prev, function_versions v, functions f
        WHERE r.id = prev.id AND v.id = r.version_id AND f.id = r.function_id
          AND r.status IN ('queued', 'running', 'failed', 'timed_out')
          AND NOT (r.status IN ('failed', 'timed_out') AND r.attempts >= r.max_attempts)
        RETURNING r.id, r.function_id AS "functionId", r.version_id AS "versionId", r.trigger, r.status, r.attempts,
                  r.max_attempts AS "maxAttempts", r.event, r.duration_ms AS "durationMs", r.result, r.error,
                  v.timeout_ms AS "timeoutMs", v.memory_mb AS "memoryMb", v.concurrency, f.secrets,
                  r.invoked_by AS "invokedBy", r.invoked_session AS "invokedSession",
                  v.triggers @> '[{"type": "http", "runAs": "caller"}]'::jsonb AS "runAsCaller",
                  prev.status AS "previousStatus"`,
      [runId],
    );
    return rows[0] ?? null;
  }

  /**
   * What a synchronous invoke's run (one attempt) needs, read without writing: its state
   * is written once, by finish() (one commit instead of two). Null when it is no longer
   * queued (finished, or taken by another worker) or gone.
   */
  async peek(runId: string): Promise<RunContext | null> {
    const { rows } = await this.pool.query<RunContext>(
      `SELECT r.id, r.function_id AS "functionId", r.version_id AS "versionId", r.trigger, 'running' AS status, r.attempts + 1 AS attempts,
              r.max_attempts AS "maxAttempts", r.event, r.duration_ms AS "durationMs", r.result, r.error,
              v.timeout_ms AS "timeoutMs", v.memory_mb AS "memoryMb", v.concurrency, f.secrets, r.invoked_by AS "invokedBy", r.invoked_session AS "invokedSession",
              v.triggers @> '[{"type": "http", "runAs": "caller"}]'::jsonb AS "runAsCaller"
         FROM function_runs r
         JOIN function_versions v ON v.id = r.version_id
         JOIN functions f ON f.id = r.function_id
        WHERE r.id = $1 AND r.status = 'queued' AND r.max_attempts = 1`,
      [runId],
    );
    return rows[0] ?? null;
  }

  /** Undoes start() for a run that must wait for a concurrency slot. */
  async unstart(runId: string, previousStatus: RunStatus): Promise<void> {
    await this.pool.query(
      `UPDATE function_runs SET status = $2, attempts = attempts - 1 WHERE id = $1 AND status = 'running'`,
      [runId, previousStatus],
    );
  }

  /**
   * Records an attempt's outcome and adds it to its function's usage of the day (UTC), in
   * one statement (one commit): the usage row is counted exactly when the outcome is.
   */
  async finish(runId: string, f: RunFinish): Promise<void> {
    await this.pool.query(
      `WITH r AS (
         UPDATE function_runs SET status = $2, duration_ms = $3, logs = $4::jsonb, logs_truncated = $5,
                result = $6::jsonb, error = $7::jsonb, finished_at = now(), cold = $8, cpu_ms = $9, memory_bytes = $10,
                attempts = CASE WHEN $11::timestamptz IS NULL THEN attempts ELSE attempts + 1 END,
                started_at = COALESCE($11::timestamptz, started_at)
          WHERE id = $1
          RETURNING function_id, version_id
       )
       INSERT INTO function_usage_daily AS u (function_id, day, attempts, cold_starts, wall_ms, cpu_ms, memory_bytes_max, memory_mb_ms)
       SELECT r.function_id, (now() AT TIME ZONE 'UTC')::date, 1, CASE WHEN $8 THEN 1 ELSE 0 END, $3,
              COALESCE($9, 0), COALESCE($10, 0), $3::double precision * v.memory_mb
         FROM r JOIN function_versions v ON v.id = r.version_id
       ON CONFLICT (function_id, day) DO UPDATE SET
         attempts = u.attempts + 1,
         cold_starts = u.cold_starts + EXCLUDED.cold_starts,
         wall_ms = u.wall_ms + EXCLUDED.wall_ms,
         cpu_ms = u.cpu_ms + EXCLUDED.cpu_ms,
         memory_bytes_max = GREATEST(u.memory_bytes_max, EXCLUDED.memory_bytes_max),
         memory_mb_ms = u.memory_mb_ms + EXCLUDED.memory_mb_ms`,
      [
        runId,
        f.status,
        f.durationMs,
        JSON.stringify(f.logs),
        f.logsTruncated,
        f.result === undefined || f.result === null ? null : JSON.stringify(f.result),
        f.error ? JSON.stringify(f.error) : null,
        f.cold ?? null,
        f.cpuMs ?? null,
        f.memoryBytes ?? null,
        f.startedAt ?? null,
      ],
    );
  }

  /** Ends a run the queue gave up on outside the function (e.g. it stalled too often). */
  async abandon(runId: string, error: RunError): Promise<void> {
    await this.pool.query(
      `UPDATE function_runs SET status = CASE WHEN max_attempts > 1 THEN 'dead' ELSE 'failed' END,
              error = $2::jsonb, finished_at = now()
        WHERE id = $1 AND status IN ('queued', 'running', 'failed', 'timed_out')`,
      [runId, JSON.stringify(error)],
    );
  }

  /** Functions whose current version has a trigger for this event. */
  async subscribers(type: string, target: string | null, operation: string): Promise<Subscriber[]> {
    const { rows } = await this.pool.query<Subscriber>(
      `SELECT DISTINCT f.id AS "functionId", v.id AS "versionId", v.version, v.retries, v.backoff_ms AS "backoffMs"
         FROM function_triggers t
         JOIN functions f ON f.id = t.function_id
         JOIN function_versions v ON v.function_id = f.id AND v.version = f.current_version
        WHERE t.type = $1 AND t.target IS NOT DISTINCT FROM $2 AND $3 = ANY(t.events)`,
      [type, target, operation],
    );
    return rows;
  }

  /** The current version of one function (for a schedule tick); null when it is gone. */
  async scheduled(functionId: string): Promise<Subscriber | null> {
    const { rows } = await this.pool.query<Subscriber>(
      `SELECT f.id AS "functionId", v.id AS "versionId", v.version, v.retries, v.backoff_ms AS "backoffMs"
         FROM functions f JOIN function_versions v ON v.function_id = f.id AND v.version = f.current_version
        WHERE f.id = $1 AND EXISTS (SELECT 1 FROM function_triggers t WHERE t.function_id = f.id AND t.type = 'schedule')`,
      [functionId],
    );
    return rows[0] ?? null;
  }

  /**
   * Records that this function takes on this event and creates its run, atomically. A
   * redelivered event finds the receipt: `created` is false and the existing run is
   * returned (with its status, so a run whose job was lost can be enqueued again).
   */
  async runForEvent(
    sub: Subscriber,
    trigger: string,
    eventId: string,
    event: unknown,
  ): Promise<{ runId: string; created: boolean; status: string }> {
    const { rows } = await this.pool.query<{ run_id: string }>(
      `WITH receipt AS (
         INSERT INTO function_event_receipts (function_id, event_id, run_id)
         VALUES ($1, $2, gen_random_uuid())
         ON CONFLICT (function_id, event_id) DO NOTHING
         RETURNING run_id
       )
       INSERT INTO function_runs (id, function_id, version_id, version, trigger, event_id, event, max_attempts)
       SELECT run_id, $1, $3, $4, $5, $2, $6::jsonb, $7 FROM receipt
       RETURNING id AS run_id`,
      [sub.functionId, eventId, sub.versionId, sub.version, trigger, JSON.stringify(event), sub.retries + 1],
    );
    if (rows[0]) return { runId: rows[0].run_id, created: true, status: 'queued' };
    const existing = await this.pool.query<{ run_id: string; status: string | null }>(
      `SELECT e.run_id, r.status FROM function_event_receipts e LEFT JOIN function_runs r ON r.id = e.run_id
        WHERE e.function_id = $1 AND e.event_id = $2`,
      [sub.functionId, eventId],
    );
    const row = existing.rows[0]!;
    return { runId: row.run_id, created: false, status: row.status ?? 'gone' };
  }

  /** Queued runs older than `olderThanMs` (their job may have been lost); for the sweeper. */
  async staleQueued(olderThanMs: number, limit: number): Promise<{ id: string; maxAttempts: number; backoffMs: number }[]> {
    const { rows } = await this.pool.query<{ id: string; maxAttempts: number; backoffMs: number }>(
      `SELECT r.id, r.max_attempts AS "maxAttempts", v.backoff_ms AS "backoffMs"
         FROM function_runs r JOIN function_versions v ON v.id = r.version_id
        WHERE r.status = 'queued' AND r.created_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY r.created_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows;
  }
}
