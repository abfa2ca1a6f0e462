import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { type Db, KYSELY, PG_POOL, PrismaService, type Tx, withTransaction } from '#libs/database';

/** Queries of TOTP factors and recovery codes: single-row CRUD on Prisma, the rest on Kysely. */
@Injectable()
export class MfaRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(KYSELY) private readonly db: Db,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  transaction<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, run);
  }

  findFactor(userId: string) {
    return this.prisma.mfaFactor.findUnique({ where: { userId }, select: { secret: true, confirmedAt: true, lastTimeStep: true } });
  }

  /** A new, unconfirmed factor (replacing an unconfirmed one). */
  async putPendingFactor(userId: string, secret: string): Promise<void> {
    await this.prisma.mfaFactor.upsert({
      where: { userId },
      create: { userId, secret },
      update: { secret, confirmedAt: null, lastTimeStep: 0 },
    });
  }

  /**
   * Records a time step as used, atomically: false when this step (or a later one) was already
   * accepted, so a code is never accepted twice, not even by two requests at the same moment.
   */
  async useTimeStep(userId: string, step: number): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_factors')
      .set({ last_time_step: String(step) })
      .where('user_id', '=', userId)
      .where('last_time_step', '<', String(step))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async confirm(tx: Tx, userId: string, codeHashes: string[]): Promise<void> {
    await tx.db.updateTable('mfa_factors').set({ confirmed_at: new Date() }).where('user_id', '=', userId).execute();
    await tx.db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
    if (codeHashes.length > 0) {
      await tx.db.insertInto('mfa_recovery_codes').values(codeHashes.map((codeHash) => ({ user_id: userId, code_hash: codeHash }))).execute();
    }
  }

  /** Consumes an unused recovery code, atomically. */
  async useRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_recovery_codes')
      .set({ used_at: new Date() })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  recoveryCodesLeft(userId: string): Promise<number> {
    return this.prisma.mfaRecoveryCode.count({ where: { userId, usedAt: null } });
  }

  /** Removes the factor and the recovery codes; false when there was no factor. */
  async remove(tx: Tx, userId: string): Promise<boolean> {
    await tx.db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
    const result = await tx.db.deleteFrom('mfa_factors').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** The session becomes aal2 (its next refreshed access token says so). */
  async raiseSession(tx: Tx, sessionId: string, amr: string[]): Promise<void> {
    await tx.db.updateTable('sessions').set({ aal: 'aal2', amr }).where('id', '=', sessionId).execute();
  }
}
