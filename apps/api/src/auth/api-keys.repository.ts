import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { type Db, KYSELY, PrismaService } from '#libs/database';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  scopes: string[];
  expiresAt: Date | null;
}

/** Who created a key: an admin user, another key, or the bootstrap key (both null). */
export interface KeyCreator {
  userId: string | null;
  keyId: string | null;
}

const VIEW = { id: true, name: true, prefix: true, createdBy: true, createdAt: true, lastUsedAt: true, revokedAt: true, scopes: true, expiresAt: true };

/** How long a chain of keys creating keys may be (a longer one is refused). */
const MAX_KEY_CHAIN = 16;

@Injectable()
export class ApiKeysRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(KYSELY) private readonly db: Db,
  ) {}

  /**
   * The key with this hash if it grants access now: it and every key up its chain of
   * creators is unrevoked, and every admin user on that chain still exists, is not disabled
   * and still has the role `admin`. So a key never outlives the power of whoever made it.
   * An expired key, or one made by an expired key, grants nothing either. (A recursive CTE
   * in Kysely's `sql` tag: every value bound.)
   */
  async findUsableByHash(keyHash: string): Promise<{ id: string; scopes: string[] } | null> {
    const { rows } = await sql<{ id: string; usable: boolean; depth: number; scopes: string[] }>`
      WITH RECURSIVE chain AS (
        SELECT k.id, k.revoked_at, k.expires_at, k.scopes, k.created_by_user_id, k.created_by_key_id, 0 AS depth
        FROM api_keys k WHERE k.key_hash = ${keyHash}
        UNION ALL
        SELECT p.id, p.revoked_at, p.expires_at, p.scopes, p.created_by_user_id, p.created_by_key_id, c.depth + 1
        FROM api_keys p JOIN chain c ON p.id = c.created_by_key_id
        WHERE c.depth < ${MAX_KEY_CHAIN}
      )
      SELECT c.id, c.depth, c.scopes,
        c.revoked_at IS NULL
        AND (c.expires_at IS NULL OR c.expires_at > now())
        AND (c.created_by_user_id IS NULL OR (u.id IS NOT NULL AND NOT u.disabled AND 'admin' = ANY(u.roles)))
        AND (c.created_by_key_id IS NULL OR EXISTS (SELECT 1 FROM chain p WHERE p.id = c.created_by_key_id)) AS usable
      FROM chain c LEFT JOIN users u ON u.id = c.created_by_user_id
      ORDER BY c.depth`.execute(this.db);
    if (rows.length === 0 || rows.length > MAX_KEY_CHAIN || !rows.every((r) => r.usable)) return null;
    return { id: rows[0]!.id, scopes: rows[0]!.scopes };
  }

  create(data: {
    name: string;
    prefix: string;
    keyHash: string;
    createdBy: string;
    creator: KeyCreator;
    scopes: string[];
    expiresAt: Date | null;
  }): Promise<ApiKeyView> {
    const { creator, ...rest } = data;
    return this.prisma.apiKey.create({
      data: { ...rest, createdByUserId: creator.userId, createdByKeyId: creator.keyId },
      select: VIEW,
    });
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
