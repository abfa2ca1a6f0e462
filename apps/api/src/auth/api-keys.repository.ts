import { Injectable } from '@nestjs/common';
import { PrismaService } from '#libs/database';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const VIEW = { id: true, name: true, prefix: true, createdBy: true, createdAt: true, lastUsedAt: true, revokedAt: true };

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  findActiveByHash(keyHash: string): Promise<{ id: string } | null> {
    return this.prisma.apiKey.findFirst({ where: { keyHash, revokedAt: null }, select: { id: true } });
  }

  create(data: { name: string; prefix: string; keyHash: string; createdBy: string }): Promise<ApiKeyView> {
    return this.prisma.apiKey.create({ data, select: VIEW });
  }

  list(): Promise<ApiKeyView[]> {
    return this.prisma.apiKey.findMany({ orderBy: { createdAt: 'desc' }, select: VIEW });
  }

  /** Revokes an active key; false when there is no such active key. */
  async revoke(id: string): Promise<boolean> {
    const { count } = await this.prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
    return count === 1;
  }
}
