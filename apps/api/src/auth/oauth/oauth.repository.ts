import { Injectable } from '@nestjs/common';
import { type Prisma, PrismaService } from '#libs/database';

type Tx = Prisma.TransactionClient;

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

/** Queries of provider settings and of users' identities. */
@Injectable()
export class OAuthRepository {
  constructor(private readonly prisma: PrismaService) {}

  transaction<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(run);
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

  findIdentity(client: Tx | PrismaService, provider: string, subject: string): Promise<IdentityRow | null> {
    return client.userIdentity.findUnique({ where: { provider_subject: { provider, subject } }, select: IDENTITY_FIELDS });
  }

  listIdentities(userId: string): Promise<IdentityRow[]> {
    return this.prisma.userIdentity.findMany({ where: { userId }, orderBy: { createdAt: 'asc' }, select: IDENTITY_FIELDS });
  }

  createIdentity(tx: Tx, data: { userId: string; provider: string; subject: string; email: string | null; emailVerified: boolean }): Promise<IdentityRow> {
    return tx.userIdentity.create({ data, select: IDENTITY_FIELDS });
  }

  async touchIdentity(tx: Tx, id: string, profile: { email: string | null; emailVerified: boolean }): Promise<void> {
    await tx.userIdentity.update({ where: { id }, data: { email: profile.email, emailVerified: profile.emailVerified, lastSignInAt: new Date() } });
  }

  /** Deletes one identity of the user; false when there is none with that id. */
  async deleteIdentity(tx: Tx, userId: string, id: string): Promise<boolean> {
    const { count } = await tx.userIdentity.deleteMany({ where: { id, userId } });
    return count === 1;
  }

  /** How the user can sign in, counted under a row lock on the user (two unlinks cannot both pass). */
  async signInMethods(tx: Tx, userId: string): Promise<{ password: boolean; identities: number }> {
    const rows = await tx.$queryRaw<{ has_password: boolean }[]>`SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
    const identities = await tx.userIdentity.count({ where: { userId } });
    return { password: rows[0]?.has_password ?? false, identities };
  }
}
