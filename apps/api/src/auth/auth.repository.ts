import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '#libs/database';

export type TokenPurpose = 'verify_email' | 'password_reset' | 'magic_link' | 'email_change';

/** The fields of the public user view (auth.dto.ts toUserView). */
export const USER_VIEW_FIELDS = {
  id: true,
  email: true,
  emailVerified: true,
  roles: true,
  isAnonymous: true,
  displayName: true,
  userMetadata: true,
  appMetadata: true,
  createdAt: true,
} as const;
const USER_FIELDS = { ...USER_VIEW_FIELDS, disabled: true, passwordHash: true } as const;
export type UserRecord = Prisma.UserGetPayload<{ select: typeof USER_FIELDS }>;

type Tx = Prisma.TransactionClient;

/** A session joined with its user: what decides, on every request, whether an access token still grants access. */
export interface SessionState {
  userId: string;
  email: string;
  roles: string[];
  emailVerified: boolean;
  disabled: boolean;
  revoked: boolean;
  expiresAt: number;
}

/** Every query of the auth flows: users, sessions, refresh tokens, single-use tokens, audit. */
@Injectable()
export class AuthRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** For single statements outside a transaction. */
  get client(): PrismaService {
    return this.prisma;
  }

  transaction<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(run);
  }

  findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { email }, select: USER_FIELDS });
  }

  findUserById(id: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { id }, select: USER_FIELDS });
  }

  createUser(tx: Tx, data: { email: string; passwordHash?: string; isAnonymous?: boolean }): Promise<UserRecord> {
    return tx.user.create({ data, select: USER_FIELDS });
  }

  /** A guest gets its first credential: the same row, so the id and everything it owns stay. */
  upgradeUser(tx: Tx, userId: string, data: { email: string; passwordHash?: string; emailVerified?: boolean }): Promise<UserRecord> {
    return tx.user.update({ where: { id: userId }, data: { ...data, isAnonymous: false }, select: USER_FIELDS });
  }

  async setPassword(tx: Tx, userId: string, passwordHash: string): Promise<void> {
    await tx.user.update({ where: { id: userId }, data: { passwordHash } });
  }

  /** Profile fields the user edits; undefined fields stay as they are. */
  updateProfile(userId: string, data: { displayName?: string | null; userMetadata?: Prisma.InputJsonObject }): Promise<UserRecord> {
    return this.prisma.user.update({ where: { id: userId }, data, select: USER_FIELDS });
  }

  /** A confirmed new address: it replaces the old one and counts as verified. */
  async setEmail(tx: Tx, userId: string, email: string): Promise<void> {
    await tx.user.update({ where: { id: userId }, data: { email, emailVerified: true } });
  }

  /** Deletes the user; sessions, tokens and identities go with it (foreign keys cascade). */
  async deleteUser(tx: Tx, userId: string): Promise<boolean> {
    const { count } = await tx.user.deleteMany({ where: { id: userId } });
    return count === 1;
  }

  /** Deletes the user's provider identities whose provider did not assert the email verified. */
  async removeUnprovenIdentities(tx: Tx, userId: string): Promise<void> {
    await tx.userIdentity.deleteMany({ where: { userId, emailVerified: false } });
  }

  async markEmailVerified(tx: Tx, userId: string): Promise<void> {
    await tx.user.update({ where: { id: userId }, data: { emailVerified: true } });
  }

  // --- sessions and refresh tokens -------------------------------------------------------

  createSession(
    tx: Tx,
    data: { userId: string; userAgent?: string; ip: string; expiresAt: Date; refreshTokenHash: string; aal: string; amr: string[] },
  ): Promise<{ id: string }> {
    return tx.session.create({
      data: {
        userId: data.userId,
        aal: data.aal,
        amr: data.amr,
        userAgent: data.userAgent?.slice(0, 512),
        ip: data.ip,
        expiresAt: data.expiresAt,
        refreshTokens: { create: { tokenHash: data.refreshTokenHash } },
      },
      select: { id: true },
    });
  }

  /**
   * Marks a refresh token used, atomically: of concurrent callers exactly one gets the row.
   * Returns its session, or undefined when the token is unknown or was already used.
   */
  async useRefreshToken(tx: Tx, tokenHash: string): Promise<{ sessionId: string } | undefined> {
    const rows = await tx.$queryRaw<{ session_id: string }[]>`
      UPDATE refresh_tokens SET used_at = now()
      WHERE token_hash = ${tokenHash} AND used_at IS NULL
      RETURNING session_id`;
    return rows[0] ? { sessionId: rows[0].session_id } : undefined;
  }

  /** The session of a refresh token that exists but was already used (a replay, or a concurrent refresh), and when it was used. */
  async findUsedRefreshToken(tokenHash: string): Promise<{ sessionId: string; usedAt: Date } | undefined> {
    const row = await this.prisma.refreshToken.findUnique({ where: { tokenHash }, select: { sessionId: true, usedAt: true } });
    return row?.usedAt ? { sessionId: row.sessionId, usedAt: row.usedAt } : undefined;
  }

  async addRefreshToken(tx: Tx, sessionId: string, tokenHash: string): Promise<void> {
    await tx.refreshToken.create({ data: { sessionId, tokenHash } });
    await tx.session.update({ where: { id: sessionId }, data: { lastUsedAt: new Date() } });
  }

  findSession(id: string): Promise<{ id: string; userId: string; expiresAt: Date; revokedAt: Date | null } | null> {
    return this.prisma.session.findUnique({ where: { id }, select: { id: true, userId: true, expiresAt: true, revokedAt: true } });
  }

  /** One primary-key join; null for an unknown session. */
  async findSessionState(id: string): Promise<SessionState | null> {
    const rows = await this.prisma.$queryRaw<
      { user_id: string; email: string; roles: string[]; email_verified: boolean; disabled: boolean; revoked: boolean; expires_at: Date }[]
    >`SELECT s.user_id, u.email, u.roles, u.email_verified, u.disabled, s.revoked_at IS NOT NULL AS revoked, s.expires_at
      FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ${id}::uuid`;
    const row = rows[0];
    return row
      ? { userId: row.user_id, email: row.email, roles: row.roles, emailVerified: row.email_verified, disabled: row.disabled, revoked: row.revoked, expiresAt: row.expires_at.getTime() }
      : null;
  }

  findSessionInTx(tx: Tx, id: string) {
    return tx.session.findUnique({
      where: { id },
      select: { id: true, expiresAt: true, revokedAt: true, aal: true, amr: true, user: { select: USER_FIELDS } },
    });
  }

  listActiveSessions(userId: string) {
    return this.prisma.session.findMany({
      where: { userId, revokedAt: null, expiresAt: { gt: new Date() } },
      orderBy: { createdAt: 'desc' },
      select: { id: true, userAgent: true, ip: true, createdAt: true, lastUsedAt: true, expiresAt: true },
    });
  }

  /** Revokes the given (or, without ids, every) active session of a user; returns how many. */
  async revokeSessions(client: Tx | PrismaService, userId: string, reason: string, sessionIds?: string[]): Promise<number> {
    const { count } = await client.session.updateMany({
      where: { userId, revokedAt: null, ...(sessionIds ? { id: { in: sessionIds } } : {}) },
      data: { revokedAt: new Date(), revokedReason: reason },
    });
    return count;
  }

  /** Whether the user has a confirmed second factor (sign-ins then owe it). */
  async hasConfirmedMfa(client: Tx | PrismaService, userId: string): Promise<boolean> {
    const factor = await client.mfaFactor.findUnique({ where: { userId }, select: { confirmedAt: true } });
    return factor?.confirmedAt != null;
  }

  // --- single-use tokens -----------------------------------------------------------------

  async createAuthToken(
    tx: Tx,
    data: { userId: string; purpose: TokenPurpose; tokenHash: string; expiresAt: Date; newEmail?: string; redirectTo?: string },
  ): Promise<void> {
    await tx.authToken.create({ data });
  }

  /** As consumeAuthToken, with what the token carries (the new address, the redirect). */
  async consumeAuthTokenWithData(
    client: Tx | PrismaService,
    tokenHash: string,
    purpose: TokenPurpose,
  ): Promise<{ userId: string; newEmail: string | null; redirectTo: string | null } | undefined> {
    const rows = await client.$queryRaw<{ user_id: string; new_email: string | null; redirect_to: string | null }[]>`
      UPDATE auth_tokens SET used_at = now()
      WHERE token_hash = ${tokenHash} AND purpose = ${purpose} AND used_at IS NULL AND expires_at > now()
      RETURNING user_id, new_email, redirect_to`;
    const row = rows[0];
    return row ? { userId: row.user_id, newEmail: row.new_email, redirectTo: row.redirect_to } : undefined;
  }

  /**
   * Consumes a single-use token of the given purpose, atomically: of concurrent callers
   * exactly one gets the user id; expired, used or other-purpose tokens give undefined.
   */
  async consumeAuthToken(client: Tx | PrismaService, tokenHash: string, purpose: TokenPurpose): Promise<string | undefined> {
    return (await this.consumeAuthTokenWithData(client, tokenHash, purpose))?.userId;
  }

  /** Whether a token of this purpose exists unused and unexpired (a read: it consumes nothing). */
  async authTokenUsable(tokenHash: string, purpose: TokenPurpose): Promise<boolean> {
    const row = await this.prisma.authToken.findFirst({
      where: { tokenHash, purpose, usedAt: null, expiresAt: { gt: new Date() } },
      select: { id: true },
    });
    return row !== null;
  }

  /** Ends the user's outstanding single-use tokens (of the given purposes, or all). */
  async endAuthTokens(tx: Tx, userId: string, purposes?: TokenPurpose[]): Promise<void> {
    await tx.authToken.updateMany({
      where: { userId, usedAt: null, ...(purposes ? { purpose: { in: purposes } } : {}) },
      data: { usedAt: new Date() },
    });
  }

  // --- audit -----------------------------------------------------------------------------

  async audit(
    client: Tx | PrismaService,
    event: string,
    entry: { userId?: string | null; actor?: string; ip?: string; data?: Prisma.InputJsonObject },
  ): Promise<void> {
    await client.auditLog.create({
      data: { event, userId: entry.userId ?? null, actor: entry.actor, ip: entry.ip, data: entry.data ?? {} },
    });
  }
}
