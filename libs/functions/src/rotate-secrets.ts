import type pg from 'pg';
import { withTransaction } from '#libs/database';
import type { SecretBox } from './secrets.js';

export interface RotationResult {
  /** Functions whose secrets were re-encrypted with the new key. */
  resealed: number;
  /** Functions whose secrets already opened with the new key (an earlier, interrupted run). */
  alreadyNew: number;
}

/**
 * Re-encrypts every function's secrets from the `from` key to the `to` key in one
 * transaction: all or nothing. Rows already sealed with `to` are left as they are, so an
 * interrupted run can simply be repeated. A row that opens with neither key stops the run
 * (nothing is changed) rather than being lost. Run it while no api or worker writes or
 * reads function secrets (ops/rotate-secrets.sh stops them).
 */
export async function rotateFunctionSecrets(pool: pg.Pool, from: SecretBox, to: SecretBox): Promise<RotationResult> {
  return withTransaction(pool, async ({ db }) => {
    const rows = await db.selectFrom('functions').select(['id', 'name', 'secrets']).where('secrets', 'is not', null).execute();
    const result: RotationResult = { resealed: 0, alreadyNew: 0 };
    for (const row of rows) {
      const sealed = row.secrets!; // filtered on `is not null` above
      if (opens(to, sealed)) {
        result.alreadyNew += 1;
        continue;
      }
      if (!opens(from, sealed)) throw new Error(`The secrets of function "${row.name}" open with neither the old nor the new key`);
      // `secrets = sealed` in the filter: a concurrent change makes the count 0 and aborts.
      const updated = await db
        .updateTable('functions')
        .set({ secrets: to.seal(from.open(sealed)) })
        .where('id', '=', row.id)
        .where('secrets', '=', sealed)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) throw new Error(`The secrets of function "${row.name}" changed during the rotation; run it again`);
      result.resealed += 1;
    }
    return result;
  });
}

function opens(box: SecretBox, sealed: string): boolean {
  try {
    box.open(sealed);
    return true;
  } catch {
    return false;
  }
}
