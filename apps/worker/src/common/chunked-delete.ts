import type { DeleteResult } from 'kysely';

/**
 * Runs a `DELETE ... LIMIT chunk` statement until it deletes fewer than `chunk` rows, so a
 * sweep never holds long locks or one huge transaction; the number of rows deleted in all.
 */
export async function deleteInChunks(chunk: number, deleteOnce: () => Promise<DeleteResult>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = Number((await deleteOnce()).numDeletedRows);
    total += deleted;
    if (deleted < chunk) return total;
  }
}
