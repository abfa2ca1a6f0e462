import { type Expression, sql } from 'kysely';
import type { DB, Db } from '#libs/database';

/**
 * Deletes the rows of `table` whose id `ids` selects (a query with LIMIT `chunk`), statement
 * after statement until one deletes fewer than `chunk`, so a sweep never holds long locks or
 * one huge transaction; the number of rows deleted in all.
 */
export async function deleteInChunks(db: Db, table: keyof DB, ids: Expression<{ id: string }>, chunk: number): Promise<number> {
  let total = 0;
  for (;;) {
    const { numAffectedRows } = await sql`DELETE FROM ${sql.table(table)} WHERE id IN (${ids})`.execute(db);
    const deleted = Number(numAffectedRows ?? 0);
    total += deleted;
    if (deleted < chunk) return total;
  }
}
