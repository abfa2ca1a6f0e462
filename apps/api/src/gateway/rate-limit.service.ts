import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { REDIS } from '#libs/queue';
import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import { type AccessClaims, TokenService } from '../auth/token.service.js';
import type { RateGroup } from './routes.js';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets (at least 1). */
  resetSeconds: number;
  /** `RateLimit-Limit` and `RateLimit-Policy` (`<limit>;w=<window seconds>`), made once per group. */
  limitHeader: string;
  policyHeader: string;
}

const KEY_CACHE_MS = 30_000;
const KEY_CACHE_MAX = 10_000;
/** Local counting entries kept at most (identities seen in the current windows). */
const LOCAL_MAX = 50_000;

/** Which credential an identity stands for: a user, an API key, or a client address. */
type IdentityKind = 'user' | 'key' | 'ip';

/**
 * One identity's counter in one group as this replica knows it: `known` is the shared
 * count Redis answered last time, `inflight` what this replica is adding to Redis right now
 * (not in `known` until Redis answers), `pending` the requests this replica admitted since
 * and has not sent to Redis yet. The count is known + inflight + pending.
 */
interface LocalCount {
  group: RateGroup;
  /** `user:<id>`, `key:<id>` or `ip:<address>`: the identity's name in Redis. */
  identity: string;
  known: number;
  inflight: number;
  pending: number;
  windowEnd: number;
  /** When `known` came from Redis; a picture older than two syncs is refreshed first. */
  syncedAt: number;
}

/** A caller's identity: its kind and id (a user id, key id or address bucket). */
interface Identity {
  kind: IdentityKind;
  id: string;
}

/** A value now, or once a lookup (a token's first verification, an unknown key) is done. */
export type Deferred<T> = T | Promise<T>;

const BEARER = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/;

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
 *
 * Every request passes here, so the common case is synchronous (no promise, no allocation
 * beyond the decision): a token verified before, a key looked up before, and a count far
 * from the limit are all answered from memory; only what needs a lookup or Redis returns a
 * promise (docs/decisions.md, "Gateway cost").
 */
@Injectable()
export class GatewayRateLimiter implements OnModuleDestroy {
  private readonly logger = new Logger(GatewayRateLimiter.name);
  private readonly limiters = new Map<RateGroup, Limit>();
  /** api key sha256 (hex) → key id (null: unknown/revoked), so limits need no query per request. */
  private readonly keyIds = new LRUCache<string, { id: string | null }>({ max: KEY_CACHE_MAX, ttl: KEY_CACHE_MS });
  /**
   * group → kind → id → its counter as this replica knows it (see consume). Keyed by the id
   * strings requests already carry (a verified token's `sub`, a socket's address), whose
   * hashes V8 keeps, so a lookup builds no key.
   */
  private readonly local = new Map<RateGroup, Record<IdentityKind, Map<string, LocalCount>>>();
  private localSize = 0;
  private readonly syncTimer: NodeJS.Timeout;
  /** RATE_LIMIT_SYNC_MS. */
  private readonly syncMs: number;
  private syncing: Promise<void> = Promise.resolve();
  /** sha256 of SERVICE_API_KEY, compared in constant time with each key's digest. */
  private readonly serviceKeyDigest: Buffer | undefined;
  /** RATE_LIMIT_ENABLED and at least one group limited. */
  readonly enabled: boolean;

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
      const redisLimiter = new RateLimiterRedis({
        ...options,
        storeClient: redis,
        keyPrefix: `${config.QUEUE_PREFIX}:rl:gw:${group}`,
        // An identity over its limit is refused from memory for the rest of the window,
        // so a flood does not cost a Redis round trip per request.
        inMemoryBlockOnConsumed: limit.points + 1,
        // Redis down: each replica limits on its own rather than failing every request.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(options),
      });
      this.limiters.set(group, {
        redis: redisLimiter,
        points: limit.points,
        margin: syncMargin(limit.points),
        limitHeader: String(limit.points),
        policyHeader: `${limit.points};w=${limit.seconds}`,
      });
      this.local.set(group, { user: new Map(), key: new Map(), ip: new Map() });
    }
    this.enabled = config.RATE_LIMIT_ENABLED && this.limiters.size > 0;
    this.serviceKeyDigest = config.SERVICE_API_KEY === undefined ? undefined : sha256(config.SERVICE_API_KEY);
    this.syncMs = config.RATE_LIMIT_SYNC_MS;
    this.syncTimer = setInterval(() => void this.sync(), this.syncMs);
    this.syncTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.syncTimer);
    await this.sync();
  }

  /**
   * Counts one request of this group for its caller; null when the request is not limited.
   *
   * Far from its limit, an identity's requests are counted in this replica's memory and
   * added to the shared Redis counter in one increment every RATE_LIMIT_SYNC_MS, so a busy client
   * does not cost a Redis round trip per request. A request is counted in Redis before it is
   * answered when this replica's picture of the shared count is older than two sync
   * intervals (a client that paused), or when the remaining budget falls to a tenth of the
   * limit (at least 10 requests), so refusals are exact. With several replicas, what the
   * others admitted in the last sync interval or two is seen late: at most that many
   * requests, and never more than the margin, pass beyond the limit (docs/self-hosting.md, "Gateway").
   *
   * Synchronous when the caller's identity and count are known here; a promise otherwise.
   */
  consume(group: RateGroup, request: FastifyRequest): Deferred<RateDecision | null> {
    const limit = this.limiters.get(group);
    if (limit === undefined) return null;
    const identity = this.identityOf(request);
    if (identity === null) return null;
    if (identity instanceof Promise) return identity.then((known) => (known === null ? null : this.count(group, limit, known)));
    return this.count(group, limit, identity);
  }

  private count(group: RateGroup, limit: Limit, identity: Identity): Deferred<RateDecision> {
    const now = Date.now();
    const counts = this.local.get(group)![identity.kind];
    const entry = counts.get(identity.id);
    if (entry !== undefined && entry.windowEnd > now && now - entry.syncedAt < 2 * this.syncMs) {
      const used = entry.known + entry.inflight + entry.pending;
      if (limit.points - used > limit.margin) {
        entry.pending += 1;
        return decisionOf(limit, true, used + 1, entry.windowEnd - now);
      }
    }
    return this.countInRedis(group, limit, identity, entry, now);
  }

  /** Near the limit, new in this window, or the window ended: counts in Redis now, with whatever is still pending here. */
  private async countInRedis(group: RateGroup, limit: Limit, identity: Identity, entry: LocalCount | undefined, now: number): Promise<RateDecision> {
    const pending = entry !== undefined && entry.windowEnd > now ? entry.pending : 0;
    if (entry !== undefined) {
      entry.pending = 0;
      entry.inflight += pending;
    }
    const name = entry?.identity ?? `${identity.kind}:${identity.id}`;
    try {
      const { res, allowed } = await consumeIn(limit.redis, name, 1 + pending);
      this.remember(group, identity.kind, identity.id, name, res, now);
      return decisionOf(limit, allowed, res.consumedPoints, res.msBeforeNext);
    } finally {
      if (entry !== undefined) entry.inflight -= pending;
    }
  }

  /** Adds every replica-local count to Redis (every RATE_LIMIT_SYNC_MS); runs one at a time. */
  private sync(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      const now = Date.now();
      const due: [IdentityKind, string, LocalCount][] = [];
      for (const byKind of this.local.values()) {
        for (const kind of KINDS) {
          const counts = byKind[kind];
          for (const [id, entry] of counts) {
            if (entry.pending > 0) due.push([kind, id, entry]);
            else if (entry.windowEnd <= now) {
              counts.delete(id);
              this.localSize -= 1;
            }
          }
        }
      }
      await Promise.all(
        due.map(async ([kind, id, entry]) => {
          const limit = this.limiters.get(entry.group);
          const points = entry.pending;
          entry.pending = 0;
          if (!limit) return;
          entry.inflight += points;
          try {
            const { res } = await consumeIn(limit.redis, entry.identity, points);
            entry.inflight -= points;
            this.remember(entry.group, kind, id, entry.identity, res, Date.now());
          } catch (err) {
            // Not counted now; the next request of this identity counts it in Redis.
            entry.inflight -= points;
            entry.pending += points;
            this.logger.warn(`rate-limit sync failed: ${(err as Error).message}`);
          }
        }),
      );
    });
    return this.syncing;
  }

  private remember(group: RateGroup, kind: IdentityKind, id: string, identity: string, res: RateLimiterRes, now: number): void {
    const counts = this.local.get(group)![kind];
    const entry = counts.get(id);
    const windowEnd = now + Math.max(1, res.msBeforeNext);
    if (entry) {
      entry.known = res.consumedPoints;
      entry.windowEnd = windowEnd;
      entry.syncedAt = now;
      return;
    }
    if (this.localSize >= LOCAL_MAX) return; // counted in Redis per request until the next sync sweeps
    counts.set(id, { group, identity, known: res.consumedPoints, inflight: 0, pending: 0, windowEnd, syncedAt: now });
    this.localSize += 1;
  }

  /**
   * The caller's identity, or null for an exempt service key. A bearer token's verification
   * is left on the request (`verifiedBearer`) for the AuthGuard, so it happens once.
   */
  private identityOf(request: FastifyRequest): Deferred<Identity | null> {
    const apiKey = request.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey.length > 0 && apiKey.length <= 200) {
      const digest = sha256(apiKey);
      if (this.serviceKeyDigest !== undefined && timingSafeEqual(digest, this.serviceKeyDigest)) {
        return this.config.RATE_LIMIT_EXEMPT_SERVICE_KEY ? null : { kind: 'key', id: 'bootstrap' };
      }
      const hash = digest.toString('hex');
      const cached = this.keyIds.get(hash);
      if (cached !== undefined) return cached.id === null ? this.addressOf(request) : { kind: 'key', id: cached.id };
      return this.lookUpKey(hash).then((id) => (id === null ? this.addressOf(request) : { kind: 'key', id }));
    } else {
      const authorization = request.headers.authorization;
      if (authorization !== undefined && authorization.startsWith('Bearer ')) {
        // A token verified before is looked up as it is: only verified tokens are remembered,
        // so a hit needs no syntax check (the pattern below costs more than the lookup).
        const claims = this.tokens.knownAccess(authorization.slice(7));
        if (claims !== undefined) return this.userOf(request, authorization, claims);
        const match = BEARER.exec(authorization);
        if (match !== null) return this.tokens.verifyAccess(match[1]!).then((verified) => this.userOf(request, authorization, verified));
      }
    }
    return this.addressOf(request);
  }

  private userOf(request: FastifyRequest, authorization: string, claims: AccessClaims | undefined): Identity {
    request.verifiedBearer = { authorization, claims };
    return claims === undefined ? this.addressOf(request) : { kind: 'user', id: claims.sub };
  }

  private addressOf(request: FastifyRequest): Identity {
    return { kind: 'ip', id: addressBucket(request.ip) };
  }

  private async lookUpKey(hash: string): Promise<string | null> {
    const row = await this.apiKeys.findUsableByHash(hash);
    this.keyIds.set(hash, { id: row?.id ?? null });
    return row?.id ?? null;
  }
}

const KINDS: readonly IdentityKind[] = ['user', 'key', 'ip'];

/** One group's limit and its Redis counter. */
interface Limit {
  redis: RateLimiterRedis;
  points: number;
  /** syncMargin(points), computed once. */
  margin: number;
  limitHeader: string;
  policyHeader: string;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
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

function decisionOf(limit: Limit, allowed: boolean, consumed: number, msBeforeNext: number): RateDecision {
  return {
    allowed,
    remaining: Math.max(0, limit.points - consumed),
    resetSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
    limitHeader: limit.limitHeader,
    policyHeader: limit.policyHeader,
  };
}

/**
 * The bucket of a client address: an IPv4 address as is (also when IPv4-mapped), an IPv6
 * address by its /64 network, since one subscriber usually holds a whole /64 and could
 * otherwise rotate through fresh addresses for fresh budgets.
 */
export function addressBucket(ip: string): string {
  // IPv4, by far the most common: no pattern to run.
  if (!ip.includes(':')) return ip;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
