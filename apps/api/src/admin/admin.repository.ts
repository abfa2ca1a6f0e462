import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type pg from 'pg';
import { type DB, type Db, isUniqueViolation, KYSELY, PG_POOL, type Prisma, PrismaService, withTransaction } from '#libs/database';
import { writeOutbox } from '#libs/events';
import { USER_VIEW_FIELDS, userViewOf } from '../auth/auth.repository.js';
import type { TimeIdPosition } from '../common/time-id-cursor.js';
import type { UpdateUserBody } from './admin.dto.js';

const ADMIN_USER_FIELDS = { ...USER_VIEW_FIELDS, disabled: true, updatedAt: true } as const;
export type AdminUserRecord = Prisma.UserGetPayload<{ select: typeof ADMIN_USER_FIELDS }>;

/** The admin view of a `users` row read with Kysely. */
function adminUserOf(row: Selectable<DB['users']>): AdminUserRecord {
  return { ...userViewOf(row), updatedAt: row.updated_at };
}

/** Queries of admin user management. */
@Injectable()
export class AdminRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(KYSELY) private readonly db: Db,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  /** Users by email substring, newest first, keyset-paged by (createdAt, id). */
  async listUsers(search: string | undefined, limit: number, after: TimeIdPosition | undefined): Promise<AdminUserRecord[]> {
    let query = this.db.selectFrom('users').selectAll();
    if (search) query = query.where('email', 'like', `%${search.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`);
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(adminUserOf);
  }

  findUser(id: string): Promise<AdminUserRecord | null> {
    return this.prisma.user.findUnique({ where: { id }, select: ADMIN_USER_FIELDS });
  }

  /**
   * Creates a user as an admin (no session, no email), with the signup event (auth triggers
   * run as for a signup) and an audit row, in one transaction. Null when the email is taken.
   */
  async createUser(
    data: { email: string; passwordHash: string | null; roles: string[]; emailVerified: boolean },
    actor: string,
  ): Promise<AdminUserRecord | null> {
    try {
      return await withTransaction(this.pool, async (tx) => {
        const row = await tx.db
          .insertInto('users')
          .values({ email: data.email, password_hash: data.passwordHash, roles: data.roles, email_verified: data.emailVerified })
          .returningAll()
          .executeTakeFirstOrThrow();
        const user = adminUserOf(row);
        await writeOutbox(tx, 'auth.signup', {
          user: { id: user.id, email: user.email, roles: user.roles, createdAt: user.createdAt.toISOString() },
        });
        await tx.db.insertInto('audit_logs').values({ event: 'user.create', user_id: user.id, actor }).execute();
        return user;
      });
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /**
   * Applies the change; disabling a user also ends every session and every outstanding
   * email-link token. Undefined when the user no longer exists.
   */
  updateUser(id: string, data: UpdateUserBody, audit: { actor: string; before: AdminUserRecord }): Promise<AdminUserRecord | undefined> {
    return withTransaction(this.pool, async (tx) => {
      const { userMetadata, appMetadata, displayName, emailVerified, roles, disabled } = data;
      const row = await tx.db
        .updateTable('users')
        .set({
          updated_at: new Date(),
          ...(roles !== undefined ? { roles } : {}),
          ...(disabled !== undefined ? { disabled } : {}),
          ...(emailVerified !== undefined ? { email_verified: emailVerified } : {}),
          ...(displayName !== undefined ? { display_name: displayName } : {}),
          ...(userMetadata !== undefined ? { user_metadata: JSON.stringify(userMetadata) } : {}),
          ...(appMetadata !== undefined ? { app_metadata: JSON.stringify(appMetadata) } : {}),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      if (data.disabled) {
        await tx.db.updateTable('sessions').set({ revoked_at: new Date(), revoked_reason: 'disabled' }).where('user_id', '=', id).where('revoked_at', 'is', null).execute();
        await tx.db.updateTable('auth_tokens').set({ used_at: new Date() }).where('user_id', '=', id).where('used_at', 'is', null).execute();
      }
      if (data.roles) {
        await tx.db
          .insertInto('audit_logs')
          .values({ event: 'role.change', user_id: id, actor: audit.actor, data: JSON.stringify({ before: audit.before.roles, after: data.roles }) })
          .execute();
      }
      if (data.disabled !== undefined && data.disabled !== audit.before.disabled) {
        await tx.db.insertInto('audit_logs').values({ event: data.disabled ? 'user.disable' : 'user.enable', user_id: id, actor: audit.actor }).execute();
      }
      return adminUserOf(row);
    });
  }

  /** Ends every active session of a user (their refresh tokens stop working); how many. */
  async revokeSessions(id: string, actor: string): Promise<number> {
    return withTransaction(this.pool, async (tx) => {
      const result = await tx.db
        .updateTable('sessions')
        .set({ revoked_at: new Date(), revoked_reason: 'admin' })
        .where('user_id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const count = Number(result.numUpdatedRows);
      await tx.db.insertInto('audit_logs').values({ event: 'sessions.revoke', user_id: id, actor, data: JSON.stringify({ count }) }).execute();
      return count;
    });
  }

  async deleteUser(id: string, actor: string): Promise<boolean> {
    return withTransaction(this.pool, async (tx) => {
      const result = await tx.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      const deleted = Number(result.numDeletedRows) === 1;
      if (deleted) await tx.db.insertInto('audit_logs').values({ event: 'user.delete', user_id: null, actor, data: JSON.stringify({ userId: id }) }).execute();
      return deleted;
    });
  }
}
