import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { REDIS } from '#libs/queue';
import { AppException } from '../common/app-exception.js';

/**
 * What is limited. Each counts per subject, never per constant: `login` failed logins,
 * `signup` signups, `password-reset`/`magic-link`/`verify-email` emails requested,
 * `token` failed uses of an email-link token (verify-email, password-reset, magic-link
 * verify), `refresh` failed refreshes, `password-change` wrong current passwords, `mfa` wrong
 * second-factor codes, `guest` guest sessions started.
 */
export type LimitedAction = 'login' | 'signup' | 'password-reset' | 'magic-link' | 'verify-email' | 'token' | 'refresh' | 'password-change' | 'mfa' | 'guest';

/**
 * The subjects an attempt is counted against: the email it names, the signed-in user it
 * comes from, and the client IP. Every key is a value of the request, so one client can
 * never exhaust another's budget (except others behind the same IP, which gets 5×).
 */
export interface LimitKeys {
  email?: string;
  user?: string;
  ip?: string;
}
type Dimension = keyof LimitKeys;

/**
 * Redis-backed counters, so limits hold across api replicas: AUTH_RATE_LIMIT_MAX per email
 * or user per window, five times that per client IP (many users can share an address).
 */
@Injectable()
export class RateLimitService {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private limiter(action: LimitedAction, dimension: Dimension): RateLimiterRedis {
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

  private counters(action: LimitedAction, keys: LimitKeys): [RateLimiterRedis, string][] {
    return (Object.keys(keys) as Dimension[])
      .filter((dimension) => keys[dimension] !== undefined)
      .map((dimension) => [this.limiter(action, dimension), keys[dimension]!]);
  }

  /** Throws 429 (with Retry-After seconds) when a counter is already exhausted. */
  async check(action: LimitedAction, keys: LimitKeys): Promise<void> {
    for (const [limiter, key] of this.counters(action, keys)) {
      const res = await limiter.get(key);
      if (res && res.consumedPoints >= limiter.points) throw tooMany(res);
    }
  }

  /** Counts one attempt (a failed login, a sent email); throws 429 once over the limit. */
  async hit(action: LimitedAction, keys: LimitKeys): Promise<void> {
    for (const [limiter, key] of this.counters(action, keys)) {
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
