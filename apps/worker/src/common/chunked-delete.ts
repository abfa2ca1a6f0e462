import type pg from 'pg';

/**
 * Runs a `DELETE ... LIMIT chunk` statement until it deletes fewer than `chunk` rows, so a
 * sweep never holds long locks or one huge transaction; the number of rows deleted in all.
 */
export async function deleteInChunks(pool: pg.Pool, text: string, values: unknown[], chunk: number): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(text, values);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < chunk) return total;
  }
}
