import type { PrismaService } from '#libs/database';
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
export async function rotateFunctionSecrets(prisma: PrismaService, from: SecretBox, to: SecretBox): Promise<RotationResult> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.cloudFunction.findMany({ where: { secrets: { not: null } }, select: { id: true, name: true, secrets: true } });
    const result: RotationResult = { resealed: 0, alreadyNew: 0 };
    for (const row of rows) {
      const sealed = row.secrets!; // filtered on `not: null` above
      if (opens(to, sealed)) {
        result.alreadyNew += 1;
        continue;
      }
      if (!opens(from, sealed)) throw new Error(`The secrets of function "${row.name}" open with neither the old nor the new key`);
      // `secrets: sealed` in the filter: a concurrent change makes the count 0 and aborts.
      const updated = await tx.cloudFunction.updateMany({ where: { id: row.id, secrets: sealed }, data: { secrets: to.seal(from.open(sealed)) } });
      if (updated.count !== 1) throw new Error(`The secrets of function "${row.name}" changed during the rotation; run it again`);
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
