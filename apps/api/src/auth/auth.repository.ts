import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type pg from 'pg';
import { type DB, type Db, KYSELY, PG_POOL, type Prisma, PrismaService, type Tx, withTransaction } from '#libs/database';

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

/** The public view's fields of a `users` row read with Kysely (as Prisma selects USER_VIEW_FIELDS), plus `disabled`. */
export function userViewOf(row: Selectable<DB['users']>) {
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified,
    roles: row.roles,
    isAnonymous: row.is_anonymous,
    displayName: row.display_name,
    // jsonb objects, written only from validated bodies (metadataSchema).
    userMetadata: row.user_metadata as Prisma.JsonValue,
    appMetadata: row.app_metadata as Prisma.JsonValue,
    createdAt: row.created_at,
    disabled: row.disabled,
  };
}

/** A `users` row read with Kysely, in the shape the auth flows use (as Prisma selects USER_FIELDS). */
export function userRecordOf(row: Selectable<DB['users']>): UserRecord {
  return { ...userViewOf(row), passwordHash: row.password_hash };
}

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

/**
 * Every query of the auth flows: users, sessions, refresh tokens, single-use tokens, audit.
 * Plain single-row reads stay on Prisma; writes run in `transaction` (withTransaction, Kysely
 * on `tx.db`), and a method that may run in or outside one takes a `Db` (`tx.db` or `db`).
 */
@Injectable()
export class AuthRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(KYSELY) readonly db: Db,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  transaction<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, run);
  }

  findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { email }, select: USER_FIELDS });
  }

  findUserById(id: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { id }, select: USER_FIELDS });
  }

  async createUser(tx: Tx, data: { email: string; passwordHash?: string; isAnonymous?: boolean }): Promise<UserRecord> {
    const row = await tx.db
      .insertInto('users')
      .values({ email: data.email, password_hash: data.passwordHash ?? null, ...(data.isAnonymous !== undefined ? { is_anonymous: data.isAnonymous } : {}) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return userRecordOf(row);
  }

  /** A guest gets its first credential: the same row, so the id and everything it owns stay. */
  async upgradeUser(tx: Tx, userId: string, data: { email: string; passwordHash?: string; emailVerified?: boolean }): Promise<UserRecord> {
    const row = await tx.db
      .updateTable('users')
      .set({
        email: data.email,
        is_anonymous: false,
        updated_at: new Date(),
        ...(data.passwordHash !== undefined ? { password_hash: data.passwordHash } : {}),
        ...(data.emailVerified !== undefined ? { email_verified: data.emailVerified } : {}),
      })
      .where('id', '=', userId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return userRecordOf(row);
  }

  async setPassword(tx: Tx, userId: string, passwordHash: string): Promise<void> {
    await tx.db.updateTable('users').set({ password_hash: passwordHash, updated_at: new Date() }).where('id', '=', userId).execute();
  }

  /** Profile fields the user edits; undefined fields stay as they are. */
  updateProfile(userId: string, data: { displayName?: string | null; userMetadata?: Prisma.InputJsonObject }): Promise<UserRecord> {
    return this.prisma.user.update({ where: { id: userId }, data, select: USER_FIELDS });
  }

  /** A confirmed new address: it replaces the old one and counts as verified. */
  async setEmail(tx: Tx, userId: string, email: string): Promise<void> {
    await tx.db.updateTable('users').set({ email, email_verified: true, updated_at: new Date() }).where('id', '=', userId).execute();
  }

  /** Deletes the user; sessions, tokens and identities go with it (foreign keys cascade). */
  async deleteUser(tx: Tx, userId: string): Promise<boolean> {
    const result = await tx.db.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Deletes the user's provider identities whose provider did not assert the email verified. */
  async removeUnprovenIdentities(tx: Tx, userId: string): Promise<void> {
    await tx.db.deleteFrom('user_identities').where('user_id', '=', userId).where('email_verified', '=', false).execute();
  }

  async markEmailVerified(tx: Tx, userId: string): Promise<void> {
    await tx.db.updateTable('users').set({ email_verified: true, updated_at: new Date() }).where('id', '=', userId).execute();
  }

  // --- sessions and refresh tokens -------------------------------------------------------

  async createSession(
    tx: Tx,
    data: { userId: string; userAgent?: string; ip: string; expiresAt: Date; refreshTokenHash: string; aal: string; amr: string[] },
  ): Promise<{ id: string }> {
    const session = await tx.db
      .insertInto('sessions')
      .values({ user_id: data.userId, aal: data.aal, amr: data.amr, user_agent: data.userAgent?.slice(0, 512) ?? null, ip: data.ip, expires_at: data.expiresAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx.db.insertInto('refresh_tokens').values({ session_id: session.id, token_hash: data.refreshTokenHash }).execute();
    return session;
  }

  /**
   * Marks a refresh token used, atomically: of concurrent callers exactly one gets the row.
   * Returns its session, or undefined when the token is unknown or was already used.
   */
  async useRefreshToken(tx: Tx, tokenHash: string): Promise<{ sessionId: string } | undefined> {
    const row = await tx.db
      .updateTable('refresh_tokens')
      .set({ used_at: new Date() })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .returning('session_id')
      .executeTakeFirst();
    return row ? { sessionId: row.session_id } : undefined;
  }

  /** The session of a refresh token that exists but was already used (a replay, or a concurrent refresh), and when it was used. */
  async findUsedRefreshToken(tokenHash: string): Promise<{ sessionId: string; usedAt: Date } | undefined> {
    const row = await this.prisma.refreshToken.findUnique({ where: { tokenHash }, select: { sessionId: true, usedAt: true } });
    return row?.usedAt ? { sessionId: row.sessionId, usedAt: row.usedAt } : undefined;
  }

  async addRefreshToken(tx: Tx, sessionId: string, tokenHash: string): Promise<void> {
    await tx.db.insertInto('refresh_tokens').values({ session_id: sessionId, token_hash: tokenHash }).execute();
    await tx.db.updateTable('sessions').set({ last_used_at: new Date() }).where('id', '=', sessionId).execute();
  }

  findSession(id: string): Promise<{ id: string; userId: string; expiresAt: Date; revokedAt: Date | null } | null> {
    return this.prisma.session.findUnique({ where: { id }, select: { id: true, userId: true, expiresAt: true, revokedAt: true } });
  }

  /** One primary-key join; null for an unknown session. */
  async findSessionState(id: string): Promise<SessionState | null> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.user_id', 'u.email', 'u.roles', 'u.email_verified', 'u.disabled', 's.revoked_at', 's.expires_at'])
      .where('s.id', '=', id)
      .executeTakeFirst();
    return row
      ? {
          userId: row.user_id,
          email: row.email,
          roles: row.roles,
          emailVerified: row.email_verified,
          disabled: row.disabled,
          revoked: row.revoked_at !== null,
          expiresAt: row.expires_at.getTime(),
        }
      : null;
  }

  /** A session with its user, read in the refresh transaction. */
  async findSessionInTx(tx: Tx, id: string) {
    const session = await tx.db.selectFrom('sessions').select(['id', 'user_id', 'expires_at', 'revoked_at', 'aal', 'amr']).where('id', '=', id).executeTakeFirst();
    if (!session) return null;
    const user = await tx.db.selectFrom('users').selectAll().where('id', '=', session.user_id).executeTakeFirstOrThrow();
    return { id: session.id, expiresAt: session.expires_at, revokedAt: session.revoked_at, aal: session.aal, amr: session.amr, user: userRecordOf(user) };
  }

  listActiveSessions(userId: string) {
    return this.prisma.session.findMany({
      where: { userId, revokedAt: null, expiresAt: { gt: new Date() } },
      orderBy: { createdAt: 'desc' },
      select: { id: true, userAgent: true, ip: true, createdAt: true, lastUsedAt: true, expiresAt: true },
    });
  }

  /** Revokes the given (or, without ids, every) active session of a user; returns how many. */
  async revokeSessions(db: Db, userId: string, reason: string, sessionIds?: string[]): Promise<number> {
    if (sessionIds?.length === 0) return 0;
    let query = db.updateTable('sessions').set({ revoked_at: new Date(), revoked_reason: reason }).where('user_id', '=', userId).where('revoked_at', 'is', null);
    if (sessionIds) query = query.where('id', 'in', sessionIds);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Whether the user has a confirmed second factor (sign-ins then owe it). */
  async hasConfirmedMfa(db: Db, userId: string): Promise<boolean> {
    const factor = await db.selectFrom('mfa_factors').select('confirmed_at').where('user_id', '=', userId).executeTakeFirst();
    return factor?.confirmed_at != null;
  }

  // --- single-use tokens -----------------------------------------------------------------

  async createAuthToken(
    tx: Tx,
    data: { userId: string; purpose: TokenPurpose; tokenHash: string; expiresAt: Date; newEmail?: string; redirectTo?: string },
  ): Promise<void> {
    await tx.db
      .insertInto('auth_tokens')
      .values({
        user_id: data.userId,
        purpose: data.purpose,
        token_hash: data.tokenHash,
        expires_at: data.expiresAt,
        new_email: data.newEmail ?? null,
        redirect_to: data.redirectTo ?? null,
      })
      .execute();
  }

  /** As consumeAuthToken, with what the token carries (the new address, the redirect). */
  async consumeAuthTokenWithData(
    db: Db,
    tokenHash: string,
    purpose: TokenPurpose,
  ): Promise<{ userId: string; newEmail: string | null; redirectTo: string | null } | undefined> {
    const row = await db
      .updateTable('auth_tokens')
      .set({ used_at: new Date() })
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date())
      .returning(['user_id', 'new_email', 'redirect_to'])
      .executeTakeFirst();
    return row ? { userId: row.user_id, newEmail: row.new_email, redirectTo: row.redirect_to } : undefined;
  }

  /**
   * Consumes a single-use token of the given purpose, atomically: of concurrent callers
   * exactly one gets the user id; expired, used or other-purpose tokens give undefined.
   */
  async consumeAuthToken(db: Db, tokenHash: string, purpose: TokenPurpose): Promise<string | undefined> {
    return (await this.consumeAuthTokenWithData(db, tokenHash, purpose))?.userId;
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
    if (purposes?.length === 0) return;
    let query = tx.db.updateTable('auth_tokens').set({ used_at: new Date() }).where('user_id', '=', userId).where('used_at', 'is', null);
    if (purposes) query = query.where('purpose', 'in', purposes);
    await query.execute();
  }

  // --- audit -----------------------------------------------------------------------------

  async audit(
    db: Db,
    event: string,
    entry: { userId?: string | null; actor?: string; ip?: string; data?: Record<string, unknown> },
  ): Promise<void> {
    await db
      .insertInto('audit_logs')
      .values({ event, user_id: entry.userId ?? null, actor: entry.actor ?? null, ip: entry.ip ?? null, data: JSON.stringify(entry.data ?? {}) })
      .execute();
  }
}
