import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '#libs/database';

export interface RecentFailure {
  at: Date;
  name: string;
  id: string;
  message: string | null;
}

/** Read-only aggregate queries of the admin overview. */
@Injectable()
export class OverviewRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async counts(): Promise<{ users: number; collections: number; functions: number; buckets: number; files: number }> {
    const { rows } = await this.pool.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM users) AS users,
              (SELECT count(*) FROM collections) AS collections,
              (SELECT count(*) FROM functions) AS functions,
              (SELECT count(*) FROM storage_buckets) AS buckets,
              (SELECT count(*) FROM storage_files WHERE status = 'ready') AS files`,
    );
    const r = rows[0]!;
    return { users: +r['users']!, collections: +r['collections']!, functions: +r['functions']!, buckets: +r['buckets']!, files: +r['files']! };
  }

  /** Rows of `table` created since `since`, by status. */
  async byStatus(table: 'function_runs' | 'email_messages', since: Date): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM ${table} WHERE created_at >= $1 GROUP BY status`,
      [since],
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async runsPerHour(since: Date): Promise<{ hour: Date; succeeded: number; failed: number }[]> {
    const { rows } = await this.pool.query<{ hour: Date; succeeded: string; failed: string }>(
      `SELECT date_trunc('hour', created_at) AS hour,
              count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
              count(*) FILTER (WHERE status IN ('failed', 'timed_out', 'dead')) AS failed
         FROM function_runs WHERE created_at >= $1 GROUP BY 1`,
      [since],
    );
    return rows.map((r) => ({ hour: r.hour, succeeded: Number(r.succeeded), failed: Number(r.failed) }));
  }

  async recentFailedRuns(limit: number): Promise<RecentFailure[]> {
    const { rows } = await this.pool.query<RecentFailure>(
      `SELECT coalesce(r.finished_at, r.created_at) AS at, f.name, r.id, r.error->>'message' AS message
         FROM function_runs r JOIN functions f ON f.id = r.function_id
        WHERE r.status IN ('failed', 'timed_out', 'dead')
        ORDER BY r.created_at DESC LIMIT $1`,
      [limit],
    );
    return rows;
  }

  async recentFailedEmails(limit: number): Promise<RecentFailure[]> {
    const { rows } = await this.pool.query<RecentFailure>(
      `SELECT coalesce(last_attempt_at, created_at) AS at, subject AS name, id, error AS message
         FROM email_messages WHERE status = 'failed' ORDER BY created_at DESC LIMIT $1`,
      [limit],
    );
    return rows;
  }
}
