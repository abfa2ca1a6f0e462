import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { type Db, KYSELY } from '#libs/database';

export interface RecentFailure {
  at: Date;
  name: string;
  id: string;
  message: string | null;
}

const FAILED_RUN = ['failed', 'timed_out', 'dead'];

/** Read-only aggregate queries of the admin overview (Kysely). */
@Injectable()
export class OverviewRepository {
  constructor(@Inject(KYSELY) private readonly db: Db) {}

  async counts(): Promise<{ users: number; collections: number; functions: number; buckets: number; files: number }> {
    const r = await this.db
      .selectNoFrom((eb) => [
        eb.selectFrom('users').select(eb.fn.countAll<string>().as('n')).as('users'),
        eb.selectFrom('collections').select(eb.fn.countAll<string>().as('n')).as('collections'),
        eb.selectFrom('functions').select(eb.fn.countAll<string>().as('n')).as('functions'),
        eb.selectFrom('storage_buckets').select(eb.fn.countAll<string>().as('n')).as('buckets'),
        eb.selectFrom('storage_files').select(eb.fn.countAll<string>().as('n')).where('status', '=', 'ready').as('files'),
      ])
      .executeTakeFirstOrThrow();
    return { users: Number(r.users), collections: Number(r.collections), functions: Number(r.functions), buckets: Number(r.buckets), files: Number(r.files) };
  }

  /** Rows of `table` created since `since`, by status. */
  async byStatus(table: 'function_runs' | 'email_messages', since: Date): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom(table)
      .select((eb) => ['status', eb.fn.countAll<string>().as('n')])
      .where('created_at', '>=', since)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async runsPerHour(since: Date): Promise<{ hour: Date; succeeded: number; failed: number }[]> {
    const hour = sql<Date>`date_trunc('hour', created_at)`;
    const rows = await this.db
      .selectFrom('function_runs')
      .select((eb) => [
        hour.as('hour'),
        eb.fn.countAll<string>().filterWhere('status', '=', 'succeeded').as('succeeded'),
        eb.fn.countAll<string>().filterWhere('status', 'in', FAILED_RUN).as('failed'),
      ])
      .where('created_at', '>=', since)
      .groupBy(hour)
      .execute();
    return rows.map((r) => ({ hour: r.hour, succeeded: Number(r.succeeded), failed: Number(r.failed) }));
  }

  async recentFailedRuns(limit: number): Promise<RecentFailure[]> {
    return this.db
      .selectFrom('function_runs as r')
      .innerJoin('functions as f', 'f.id', 'r.function_id')
      .select((eb) => [
        eb.fn.coalesce('r.finished_at', 'r.created_at').as('at'),
        'f.name',
        'r.id',
        sql<string | null>`r.error->>'message'`.as('message'),
      ])
      .where('r.status', 'in', FAILED_RUN)
      .orderBy('r.created_at', 'desc')
      .limit(limit)
      .execute();
  }

  async recentFailedEmails(limit: number): Promise<RecentFailure[]> {
    return this.db
      .selectFrom('email_messages')
      .select((eb) => [eb.fn.coalesce('last_attempt_at', 'created_at').as('at'), 'subject as name', 'id', 'error as message'])
      .where('status', '=', 'failed')
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }
}
