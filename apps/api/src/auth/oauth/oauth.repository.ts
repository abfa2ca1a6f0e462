import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type pg from 'pg';
import { type DB, type Db, PG_POOL, type Prisma, PrismaService, type Tx, withTransaction } from '#libs/database';

const PROVIDER_FIELDS = {
  id: true,
  kind: true,
  issuer: true,
  clientId: true,
  clientSecret: true,
  scopes: true,
  audiences: true,
  options: true,
  enabled: true,
  createdAt: true,
  updatedAt: true,
} as const;
export type ProviderRow = Prisma.AuthProviderGetPayload<{ select: typeof PROVIDER_FIELDS }>;

const IDENTITY_FIELDS = { id: true, userId: true, provider: true, subject: true, email: true, emailVerified: true, createdAt: true, lastSignInAt: true } as const;
export type IdentityRow = Prisma.UserIdentityGetPayload<{ select: typeof IDENTITY_FIELDS }>;

function identityRowOf(row: Selectable<DB['user_identities']>): IdentityRow {
  return {
    id: row.id,
    userId: row.user_id,
    provider: row.provider,
    subject: row.subject,
    email: row.email,
    emailVerified: row.email_verified,
    createdAt: row.created_at,
    lastSignInAt: row.last_sign_in_at,
  };
}

/**
 * Queries of provider settings and of users' identities: provider settings and identity lists
 * on Prisma (single-table CRUD), identity changes in withTransaction on Kysely.
 */
@Injectable()
export class OAuthRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  transaction<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, run);
  }

  listProviders(): Promise<ProviderRow[]> {
    return this.prisma.authProvider.findMany({ orderBy: { id: 'asc' }, select: PROVIDER_FIELDS });
  }

  findProvider(id: string): Promise<ProviderRow | null> {
    return this.prisma.authProvider.findUnique({ where: { id }, select: PROVIDER_FIELDS });
  }

  upsertProvider(id: string, data: Omit<Prisma.AuthProviderCreateInput, 'id'>): Promise<ProviderRow> {
    return this.prisma.authProvider.upsert({ where: { id }, create: { id, ...data }, update: data, select: PROVIDER_FIELDS });
  }

  async deleteProvider(id: string): Promise<boolean> {
    const { count } = await this.prisma.authProvider.deleteMany({ where: { id } });
    return count === 1;
  }

  findIdentity(db: Db, provider: string, subject: string): Promise<IdentityRow | undefined> {
    return db
      .selectFrom('user_identities')
      .selectAll()
      .where('provider', '=', provider)
      .where('subject', '=', subject)
      .executeTakeFirst()
      .then((row) => row && identityRowOf(row));
  }

  listIdentities(userId: string): Promise<IdentityRow[]> {
    return this.prisma.userIdentity.findMany({ where: { userId }, orderBy: { createdAt: 'asc' }, select: IDENTITY_FIELDS });
  }

  async createIdentity(tx: Tx, data: { userId: string; provider: string; subject: string; email: string | null; emailVerified: boolean }): Promise<IdentityRow> {
    const row = await tx.db
      .insertInto('user_identities')
      .values({ user_id: data.userId, provider: data.provider, subject: data.subject, email: data.email, email_verified: data.emailVerified })
      .returningAll()
      .executeTakeFirstOrThrow();
    return identityRowOf(row);
  }

  async touchIdentity(tx: Tx, id: string, profile: { email: string | null; emailVerified: boolean }): Promise<void> {
    await tx.db.updateTable('user_identities').set({ email: profile.email, email_verified: profile.emailVerified, last_sign_in_at: new Date() }).where('id', '=', id).execute();
  }

  /** Deletes one identity of the user; false when there is none with that id. */
  async deleteIdentity(tx: Tx, userId: string, id: string): Promise<boolean> {
    const result = await tx.db.deleteFrom('user_identities').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** How the user can sign in, counted under a row lock on the user (two unlinks cannot both pass). */
  async signInMethods(tx: Tx, userId: string): Promise<{ password: boolean; identities: number }> {
    const user = await tx.db.selectFrom('users').select('password_hash').where('id', '=', userId).forUpdate().executeTakeFirst();
    const { count } = await tx.db.selectFrom('user_identities').select((eb) => eb.fn.countAll<string>().as('count')).where('user_id', '=', userId).executeTakeFirstOrThrow();
    return { password: user !== undefined && user.password_hash !== null, identities: Number(count) };
  }
}
