import { Injectable } from '@nestjs/common';
import { type Prisma, PrismaService } from '#libs/database';

type Tx = Prisma.TransactionClient;

/** Queries of TOTP factors and recovery codes. */
@Injectable()
export class MfaRepository {
  constructor(private readonly prisma: PrismaService) {}

  transaction<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(run);
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
    const count = await this.prisma.$executeRaw`UPDATE mfa_factors SET last_time_step = ${step} WHERE user_id = ${userId}::uuid AND last_time_step < ${step}`;
    return count === 1;
  }

  async confirm(tx: Tx, userId: string, codeHashes: string[]): Promise<void> {
    await tx.mfaFactor.update({ where: { userId }, data: { confirmedAt: new Date() } });
    await tx.mfaRecoveryCode.deleteMany({ where: { userId } });
    await tx.mfaRecoveryCode.createMany({ data: codeHashes.map((codeHash) => ({ userId, codeHash })) });
  }

  /** Consumes an unused recovery code, atomically. */
  async useRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
    const { count } = await this.prisma.mfaRecoveryCode.updateMany({ where: { userId, codeHash, usedAt: null }, data: { usedAt: new Date() } });
    return count === 1;
  }

  recoveryCodesLeft(userId: string): Promise<number> {
    return this.prisma.mfaRecoveryCode.count({ where: { userId, usedAt: null } });
  }

  /** Removes the factor and the recovery codes; false when there was no factor. */
  async remove(tx: Tx, userId: string): Promise<boolean> {
    await tx.mfaRecoveryCode.deleteMany({ where: { userId } });
    const { count } = await tx.mfaFactor.deleteMany({ where: { userId } });
    return count === 1;
  }

  /** The session becomes aal2 (its next refreshed access token says so). */
  async raiseSession(tx: Tx, sessionId: string, amr: string[]): Promise<void> {
    await tx.session.update({ where: { id: sessionId }, data: { aal: 'aal2', amr } });
  }
}
