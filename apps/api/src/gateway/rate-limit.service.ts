import { isIPv6 } from 'node:net';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
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
/** How often counts taken locally are added to the shared Redis counters. */
export const RATE_SYNC_MS = 100;
/** Local counting entries kept at most (identities seen in the current windows). */
const LOCAL_MAX = 50_000;

/**
 * One identity's counter in one group as this replica knows it: `known` is the shared
 * count Redis answered last time, `pending` the requests this replica admitted since and has
 * not added to Redis yet.
 */
interface LocalCount {
  group: RateGroup;
  identity: string;
  known: number;
  pending: number;
  windowEnd: number;
  /** When `known` came from Redis; a picture older than two syncs is refreshed first. */
  syncedAt: number;
}

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
export class GatewayRateLimiter implements OnModuleDestroy {
  private readonly logger = new Logger(GatewayRateLimiter.name);
  private readonly limiters = new Map<RateGroup, RateLimiterRedis>();
  /** api key hash → key id (null: unknown/revoked), so limits need no query per request. */
  private readonly keyIds = new LRUCache<string, { id: string | null }>({ max: KEY_CACHE_MAX, ttl: KEY_CACHE_MS });
  /** `group identity` → its counter as this replica knows it (see consume). */
  private readonly local = new Map<string, LocalCount>();
  private readonly syncTimer: NodeJS.Timeout;
  private syncing: Promise<void> = Promise.resolve();

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
    this.syncTimer = setInterval(() => void this.sync(), RATE_SYNC_MS);
    this.syncTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.syncTimer);
    await this.sync();
  }

  get enabled(): boolean {
    return this.config.RATE_LIMIT_ENABLED && this.limiters.size > 0;
  }

  /**
   * Counts one request of this group for its caller; null when the request is not limited.
   *
   * Far from its limit, an identity's requests are counted in this replica's memory and
   * added to the shared Redis counter in one increment every RATE_SYNC_MS, so a busy client
   * does not cost a Redis round trip per request. A request is counted in Redis before it is
   * answered when this replica's picture of the shared count is older than two sync
   * intervals (a client that paused), or when the remaining budget falls to a tenth of the
   * limit (at least 10 requests), so refusals are exact. With several replicas, what the
   * others admitted in the last sync interval or two is seen late: at most that many
   * requests, and never more than the margin, pass beyond the limit (docs/api.md#rate-limits).
   */
  async consume(group: RateGroup, request: FastifyRequest): Promise<RateDecision | null> {
    const limiter = this.limiters.get(group);
    if (!limiter) return null;
    const identity = await this.identityOf(request);
    if (identity === null) return null;
    const now = Date.now();
    const key = `${group} ${identity}`;
    const entry = this.local.get(key);
    if (
      entry &&
      entry.windowEnd > now &&
      now - entry.syncedAt < 2 * RATE_SYNC_MS &&
      limiter.points - entry.known - entry.pending > syncMargin(limiter.points)
    ) {
      entry.pending += 1;
      return decisionOf(limiter, true, entry.known + entry.pending, entry.windowEnd - now);
    }
    // Near the limit, new in this window, or the window ended: count in Redis now, together
    // with whatever is still pending here.
    const pending = entry && entry.windowEnd > now ? entry.pending : 0;
    if (entry) entry.pending = 0;
    const { res, allowed } = await consumeIn(limiter, identity, 1 + pending);
    this.remember(key, group, identity, res, now);
    return decisionOf(limiter, allowed, res.consumedPoints, res.msBeforeNext);
  }

  /** Adds every replica-local count to Redis (RATE_SYNC_MS); runs one at a time. */
  private sync(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      const now = Date.now();
      const due: LocalCount[] = [];
      for (const [key, entry] of this.local) {
        if (entry.pending > 0) due.push(entry);
        else if (entry.windowEnd <= now) this.local.delete(key);
      }
      await Promise.all(
        due.map(async (entry) => {
          const limiter = this.limiters.get(entry.group);
          const points = entry.pending;
          entry.pending = 0;
          if (!limiter) return;
          try {
            const { res } = await consumeIn(limiter, entry.identity, points);
            this.remember(`${entry.group} ${entry.identity}`, entry.group, entry.identity, res, Date.now());
          } catch (err) {
            // Not counted now; the next request of this identity counts it in Redis.
            entry.pending += points;
            this.logger.warn(`rate-limit sync failed: ${(err as Error).message}`);
          }
        }),
      );
    });
    return this.syncing;
  }

  private remember(key: string, group: RateGroup, identity: string, res: RateLimiterRes, now: number): void {
    const entry = this.local.get(key);
    const windowEnd = now + Math.max(1, res.msBeforeNext);
    if (entry) {
      entry.known = res.consumedPoints;
      entry.windowEnd = windowEnd;
      entry.syncedAt = now;
      return;
    }
    if (this.local.size >= LOCAL_MAX) return; // counted in Redis per request until the next sync sweeps
    this.local.set(key, { group, identity, known: res.consumedPoints, pending: 0, windowEnd, syncedAt: now });
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
    return `ip:${addressBucket(request.ip)}`;
  }

  /** The user of a valid access token (TokenService remembers verified tokens until they expire). */
  private async userIdOf(token: string): Promise<string | null> {
    return (await this.tokens.verifyAccess(token))?.sub ?? null;
  }

  private async keyIdOf(apiKey: string): Promise<string | null> {
    const hash = hashToken(apiKey);
    const cached = this.keyIds.get(hash);
    if (cached) return cached.id;
    const row = await this.apiKeys.findUsableByHash(hash);
    this.keyIds.set(hash, { id: row?.id ?? null });
    return row?.id ?? null;
  }
}

/** Remaining budget at or below which every request is counted in Redis before its answer. */
function syncMargin(points: number): number {
  return Math.max(10, Math.ceil(points / 10));
}

/** Adds `points` to the identity's shared counter; `allowed` is false once it is past the limit. */
async function consumeIn(limiter: RateLimiterRedis, identity: string, points: number): Promise<{ res: RateLimiterRes; allowed: boolean }> {
  try {
    return { res: await limiter.consume(identity, points), allowed: true };
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    return { res: err, allowed: false };
  }
}

function decisionOf(limiter: RateLimiterRedis, allowed: boolean, consumed: number, msBeforeNext: number): RateDecision {
  return {
    allowed,
    limit: limiter.points,
    remaining: Math.max(0, limiter.points - consumed),
    resetSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
    windowSeconds: limiter.duration,
  };
}

/**
 * The bucket of a client address: an IPv4 address as is (also when IPv4-mapped), an IPv6
 * address by its /64 network, since one subscriber usually holds a whole /64 and could
 * otherwise rotate through fresh addresses for fresh budgets.
 */
export function addressBucket(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
