import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { REDIS } from '#libs/queue';
import { AppException } from '../common/app-exception.js';

export type LimitedAction = 'login' | 'signup' | 'password-reset' | 'magic-link' | 'verify-email';

/**
 * Redis-backed counters, so limits hold across api replicas. Each action is limited per
 * email (AUTH_RATE_LIMIT_MAX per window) and per client IP (five times that, since many
 * users can share an address).
 */
@Injectable()
export class RateLimitService {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private limiter(action: LimitedAction, dimension: 'email' | 'ip'): RateLimiterRedis {
    const key = `${action}:${dimension}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      const max = this.config.AUTH_RATE_LIMIT_MAX;
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${this.config.QUEUE_PREFIX}:rl:${key}`,
        points: dimension === 'ip' ? max * 5 : max,
        duration: this.config.AUTH_RATE_LIMIT_WINDOW_SECONDS,
      });
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  /** Throws 429 (with Retry-After seconds) when either counter is already exhausted. */
  async check(action: LimitedAction, keys: { email?: string; ip: string }): Promise<void> {
    const checks: [RateLimiterRedis, string][] = [[this.limiter(action, 'ip'), keys.ip]];
    if (keys.email) checks.push([this.limiter(action, 'email'), keys.email]);
    for (const [limiter, key] of checks) {
      const res = await limiter.get(key);
      if (res && res.consumedPoints >= limiter.points) throw tooMany(res);
    }
  }

  /** Counts one attempt (a failed login, a sent email); throws 429 once over the limit. */
  async hit(action: LimitedAction, keys: { email?: string; ip: string }): Promise<void> {
    const hits: [RateLimiterRedis, string][] = [[this.limiter(action, 'ip'), keys.ip]];
    if (keys.email) hits.push([this.limiter(action, 'email'), keys.email]);
    for (const [limiter, key] of hits) {
      try {
        await limiter.consume(key);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw tooMany(err);
        throw err;
      }
    }
  }

  async reset(action: LimitedAction, email: string): Promise<void> {
    await this.limiter(action, 'email').delete(email);
  }
}

function tooMany(res: RateLimiterRes): AppException {
  const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppException(429, 'RATE_LIMITED', `Too many attempts; try again in ${retryAfter} s`, undefined, {
    'Retry-After': String(retryAfter),
  });
}
