import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { REDIS } from '#libs/queue';
import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import { hashToken, safeEqual, TokenService } from '../auth/token.service.js';
import type { RateGroup } from './routes.js';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (at least 1). */
  resetSeconds: number;
  windowSeconds: number;
}

const KEY_CACHE_MS = 30_000;
const KEY_CACHE_MAX = 10_000;

/**
 * The gateway's per-route-group limits: one fixed-window counter per (group, identity) in
 * Redis, shared by every api replica. The identity is the user of a valid access token, the
 * id of a valid API key, or the client address (TRUST_PROXY decides which address counts)
 * for everything else, so unverifiable credentials never buy a fresh bucket. The bootstrap
 * service key (SERVICE_API_KEY, which the worker uses) is exempt unless
 * RATE_LIMIT_EXEMPT_SERVICE_KEY=false; keys created by admins are limited per key.
 *
 * Same library, Redis connection and key prefix as the auth limits (auth/rate-limit.service.ts),
 * which count per action and email on top of this.
 */
@Injectable()
export class GatewayRateLimiter {
  private readonly limiters = new Map<RateGroup, RateLimiterRedis>();
  /** api key hash → key id (null: unknown/revoked), so limits need no query per request. */
  private readonly keyIds = new Map<string, { id: string | null; until: number }>();
  /** verified access token → its user, until the token's expiry. */
  private readonly verified = new Map<string, { userId: string; until: number }>();

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokenService,
    private readonly apiKeys: ApiKeysRepository,
  ) {
    const groups: Record<RateGroup, AppConfig['RATE_LIMIT_READS']> = {
      reads: config.RATE_LIMIT_READS,
      writes: config.RATE_LIMIT_WRITES,
      uploads: config.RATE_LIMIT_UPLOADS,
      invokes: config.RATE_LIMIT_INVOKES,
      auth: config.RATE_LIMIT_AUTH,
    };
    for (const [group, limit] of Object.entries(groups) as [RateGroup, AppConfig['RATE_LIMIT_READS']][]) {
      if (!limit) continue;
      const options = { points: limit.points, duration: limit.seconds };
      this.limiters.set(
        group,
        new RateLimiterRedis({
          ...options,
          storeClient: redis,
          keyPrefix: `${config.QUEUE_PREFIX}:rl:gw:${group}`,
          // An identity over its limit is refused from memory for the rest of the window,
          // so a flood does not cost a Redis round trip per request.
          inMemoryBlockOnConsumed: limit.points + 1,
          // Redis down: each replica limits on its own rather than failing every request.
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory(options),
        }),
      );
    }
  }

  get enabled(): boolean {
    return this.config.RATE_LIMIT_ENABLED && this.limiters.size > 0;
  }

  /** Counts one request of this group for its caller; null when the request is not limited. */
  async consume(group: RateGroup, request: FastifyRequest): Promise<RateDecision | null> {
    const limiter = this.limiters.get(group);
    if (!limiter) return null;
    const identity = await this.identityOf(request);
    if (identity === null) return null;
    let res: RateLimiterRes;
    let allowed = true;
    try {
      res = await limiter.consume(identity);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      res = err;
      allowed = false;
    }
    return {
      allowed,
      limit: limiter.points,
      remaining: Math.max(0, res.remainingPoints),
      resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
      windowSeconds: limiter.duration,
    };
  }

  /** `user:<id>`, `key:<id>`, `ip:<address>`, or null for an exempt service key. */
  async identityOf(request: FastifyRequest): Promise<string | null> {
    const apiKey = request.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey.length > 0 && apiKey.length <= 200) {
      if (this.config.SERVICE_API_KEY !== undefined && safeEqual(apiKey, this.config.SERVICE_API_KEY)) {
        return this.config.RATE_LIMIT_EXEMPT_SERVICE_KEY ? null : 'key:bootstrap';
      }
      const keyId = await this.keyIdOf(apiKey);
      if (keyId !== null) return `key:${keyId}`;
    } else {
      const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(request.headers.authorization ?? '');
      const userId = match ? await this.userIdOf(match[1]!) : null;
      if (userId !== null) return `user:${userId}`;
    }
    return `ip:${request.ip}`;
  }

  /**
   * The user of a valid access token. A token verified once is remembered until it expires
   * (the same string carries the same signature), so a client's requests after the first
   * cost a map lookup here; the AuthGuard still verifies every request itself.
   */
  private async userIdOf(token: string): Promise<string | null> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && cached.until > now) return cached.userId;
    const claims = await this.tokens.verifyAccess(token);
    if (!claims) return null;
    const exp = expiryOf(token);
    if (exp !== undefined && exp > now) {
      if (this.verified.size >= KEY_CACHE_MAX) this.verified.clear();
      this.verified.set(token, { userId: claims.sub, until: exp });
    }
    return claims.sub;
  }

  private async keyIdOf(apiKey: string): Promise<string | null> {
    const hash = hashToken(apiKey);
    const now = Date.now();
    const cached = this.keyIds.get(hash);
    if (cached && cached.until > now) return cached.id;
    const row = await this.apiKeys.findActiveByHash(hash);
    if (this.keyIds.size >= KEY_CACHE_MAX) this.keyIds.clear();
    this.keyIds.set(hash, { id: row?.id ?? null, until: now + KEY_CACHE_MS });
    return row?.id ?? null;
  }
}

/** The `exp` (ms) of a JWT whose signature was already verified; undefined when absent. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
