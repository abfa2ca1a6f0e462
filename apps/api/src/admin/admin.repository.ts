import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '#libs/database';
import { writeOutbox } from '#libs/events';
import { USER_VIEW_FIELDS } from '../auth/auth.repository.js';
import type { UpdateUserBody } from './admin.dto.js';

const ADMIN_USER_FIELDS = { ...USER_VIEW_FIELDS, disabled: true, updatedAt: true } as const;
export type AdminUserRecord = Prisma.UserGetPayload<{ select: typeof ADMIN_USER_FIELDS }>;

/** Queries of admin user management. */
@Injectable()
export class AdminRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Users by email substring, newest first, keyset-paged by (createdAt, id). */
  async listUsers(search: string | undefined, limit: number, cursor: string | undefined): Promise<AdminUserRecord[]> {
    const after = cursor ? await this.prisma.user.findUnique({ where: { id: cursor }, select: { id: true, createdAt: true } }) : null;
    return this.prisma.user.findMany({
      where: {
        ...(search ? { email: { contains: search.toLowerCase() } } : {}),
        ...(after
          ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
      select: ADMIN_USER_FIELDS,
    });
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
      return await this.prisma.$transaction(async (tx) => {
        const user = await tx.user.create({ data, select: ADMIN_USER_FIELDS });
        await writeOutbox(tx, 'auth.signup', {
          user: { id: user.id, email: user.email, roles: user.roles, createdAt: user.createdAt.toISOString() },
        });
        await tx.auditLog.create({ data: { event: 'user.create', userId: user.id, actor } });
        return user;
      });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return null;
      throw err;
    }
  }

  /** Applies the change; disabling a user also ends every session and every outstanding email-link token. */
  updateUser(
    id: string,
    data: UpdateUserBody,
    audit: { actor: string; before: AdminUserRecord },
  ): Promise<AdminUserRecord> {
    return this.prisma.$transaction(async (tx) => {
      const { userMetadata, appMetadata, ...rest } = data;
      const user = await tx.user.update({
        where: { id },
        // Validated JSON objects (metadataSchema).
        data: { ...rest, userMetadata: userMetadata as Prisma.InputJsonObject | undefined, appMetadata: appMetadata as Prisma.InputJsonObject | undefined },
        select: ADMIN_USER_FIELDS,
      });
      if (data.disabled) {
        await tx.session.updateMany({ where: { userId: id, revokedAt: null }, data: { revokedAt: new Date(), revokedReason: 'disabled' } });
        await tx.authToken.updateMany({ where: { userId: id, usedAt: null }, data: { usedAt: new Date() } });
      }
      if (data.roles) {
        await tx.auditLog.create({
          data: { event: 'role.change', userId: id, actor: audit.actor, data: { before: audit.before.roles, after: data.roles } },
        });
      }
      if (data.disabled !== undefined && data.disabled !== audit.before.disabled) {
        await tx.auditLog.create({ data: { event: data.disabled ? 'user.disable' : 'user.enable', userId: id, actor: audit.actor } });
      }
      return user;
    });
  }

  /** Ends every active session of a user (their refresh tokens stop working); how many. */
  async revokeSessions(id: string, actor: string): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.session.updateMany({ where: { userId: id, revokedAt: null }, data: { revokedAt: new Date(), revokedReason: 'admin' } });
      await tx.auditLog.create({ data: { event: 'sessions.revoke', userId: id, actor, data: { count } } });
      return count;
    });
  }

  async deleteUser(id: string, actor: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.user.deleteMany({ where: { id } });
      if (count) await tx.auditLog.create({ data: { event: 'user.delete', userId: null, actor, data: { userId: id } } });
      return count === 1;
    });
  }
}
