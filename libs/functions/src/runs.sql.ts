import type pg from 'pg';

export interface NewRun {
  /** Set when the caller needs the id before the row exists (the api waits on it). */
  id?: string;
  functionId: string;
  versionId: string;
  version: number;
  trigger: string;
  eventId: string | null;
  event: unknown;
  maxAttempts: number;
  replayOf?: string | null;
}

/** Inserts a queued run and returns its id (one round trip, bound values). */
export async function insertRun(db: pg.Pool | pg.ClientBase, run: NewRun): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO function_runs (id, function_id, version_id, version, trigger, event_id, event, max_attempts, replay_of)
     VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7::jsonb, $8, $9)
     RETURNING id`,
    [
      run.id ?? null,
      run.functionId,
      run.versionId,
      run.version,
      run.trigger,
      run.eventId,
      JSON.stringify(run.event),
      run.maxAttempts,
      run.replayOf ?? null,
    ],
  );
  return rows[0]!.id;
}
