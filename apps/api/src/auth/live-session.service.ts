import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { REDIS } from '#libs/queue';
import { AppException } from '../common/app-exception.js';
import { AuthRepository, type SessionState } from './auth.repository.js';

/** What the guard takes from the live rows instead of the token's claims. */
export interface LiveUser {
  email: string;
  roles: string[];
  emailVerified: boolean;
}

/** A cached lookup (the cache holds objects: a session that does not exist is `state: null`). */
interface Entry {
  state: SessionState | null;
}

const MAX_ENTRIES = 10_000;

export const sessionEnded = () => new AppException(401, 'SESSION_REVOKED', 'This session has ended; sign in again');

/**
 * The live state of a session and its user (revoked, expired, disabled, roles), checked on
 * every request that carries an access token. A token's claims only say who it was issued
 * to; what that user may do now is read here.
 *
 * Cheap on hot paths: each replica caches a session's state for AUTH_SESSION_CACHE_MS (one
 * primary-key join per session per period). Every change that ends or narrows a user's
 * access (logout, session revoke, role change, disable, delete, password change or reset)
 * calls `invalidateUser` after its commit: it drops the entries on this replica at once and
 * publishes the user id on Redis, so every other replica drops them within milliseconds;
 * a lost message is bounded by the cache period. `AUTH_SESSION_CACHE_MS=0` reads the rows
 * on every request.
 */
@Injectable()
export class LiveSessionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('LiveSessionService');
  /** session id → its state, for AUTH_SESSION_CACHE_MS; least recently used go first beyond MAX_ENTRIES. */
  private readonly cache: LRUCache<string, Entry> | undefined;
  /** Bumped by every invalidation: a lookup that raced one is not cached. */
  private generation = 0;
  private subscriber?: Redis;

  constructor(
    private readonly repo: AuthRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const ttl = config.AUTH_SESSION_CACHE_MS;
    this.cache = ttl > 0 ? new LRUCache<string, Entry>({ max: MAX_ENTRIES, ttl }) : undefined;
  }

  private get channel(): string {
    return `${this.config.QUEUE_PREFIX}:auth:invalidate`;
  }

  async onModuleInit(): Promise<void> {
    if (this.config.AUTH_SESSION_CACHE_MS === 0) return;
    const subscriber = this.redis.duplicate({ connectionName: 'baas-auth-invalidate', commandTimeout: undefined });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, userId: string) => this.dropUser(userId));
    // After a reconnect messages may have been missed: forget everything cached (and
    // subscribe again, in case the first attempt failed while Redis was down).
    subscriber.on('ready', () => {
      this.dropAll();
      subscriber.subscribe(this.channel).catch(() => undefined);
    });
    this.subscriber = subscriber;
    await subscriber.subscribe(this.channel).catch((err: unknown) => {
      this.logger.warn(`cannot subscribe to session invalidations (${String(err)}); cached states expire after ${this.config.AUTH_SESSION_CACHE_MS} ms`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  /** The live user behind an access token's session; 401 SESSION_REVOKED when it no longer grants access. */
  async check(sessionId: string, userId: string): Promise<LiveUser> {
    const state = await this.state(sessionId);
    if (!state || state.userId !== userId || state.revoked || state.disabled || state.expiresAt <= Date.now()) throw sessionEnded();
    return { email: state.email, roles: state.roles, emailVerified: state.emailVerified };
  }

  /** Forgets every cached session of the user here and on every replica; call after the change has committed. */
  async invalidateUser(userId: string): Promise<void> {
    this.dropUser(userId);
    if (this.config.AUTH_SESSION_CACHE_MS === 0) return;
    await this.redis.publish(this.channel, userId).catch((err: unknown) => {
      this.logger.warn(`could not publish a session invalidation (${String(err)}); other replicas catch up within ${this.config.AUTH_SESSION_CACHE_MS} ms`);
    });
  }

  private async state(sessionId: string): Promise<SessionState | null> {
    const cached = this.cache?.get(sessionId);
    if (cached) return cached.state;
    const generation = this.generation;
    const state = await this.repo.findSessionState(sessionId);
    if (generation === this.generation) this.cache?.set(sessionId, { state });
    return state;
  }

  private dropUser(userId: string): void {
    this.generation++;
    if (!this.cache) return;
    const dropped = [...this.cache.entries()].filter(([, entry]) => !entry.state || entry.state.userId === userId);
    for (const [sessionId] of dropped) this.cache.delete(sessionId);
  }

  private dropAll(): void {
    this.generation++;
    this.cache?.clear();
  }
}
