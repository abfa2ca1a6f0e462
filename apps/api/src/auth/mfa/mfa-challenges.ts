import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { REDIS } from '#libs/queue';
import { hashToken, newOpaqueToken } from '../token.service.js';

/** A first factor passed; the second is owed. What the sign-in answers instead of tokens. */
export interface MfaChallenge {
  mfaRequired: true;
  challengeToken: string;
  factors: 'totp'[];
  expiresIn: number;
  /** A magic link requested with a redirect: where the app continues after the second factor. */
  redirectTo?: string;
}

export interface PendingChallenge {
  userId: string;
  /** How the first factor was passed (pwd, email, oauth). */
  amr: string[];
  redirectTo?: string;
}

const CHALLENGE_TTL_SECONDS = 300;

/** Pending second-factor challenges in Redis: single use, five minutes. */
@Injectable()
export class MfaChallengeStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(pending: PendingChallenge): Promise<MfaChallenge> {
    const challengeToken = newOpaqueToken('mc_');
    await this.redis.set(this.key(challengeToken), JSON.stringify(pending), 'EX', CHALLENGE_TTL_SECONDS);
    return { mfaRequired: true, challengeToken, factors: ['totp'], expiresIn: CHALLENGE_TTL_SECONDS, ...(pending.redirectTo ? { redirectTo: pending.redirectTo } : {}) };
  }

  async peek(challengeToken: string): Promise<PendingChallenge | undefined> {
    const raw = await this.redis.get(this.key(challengeToken));
    return raw ? (JSON.parse(raw) as PendingChallenge) : undefined;
  }

  /** Takes the challenge once (a second use finds nothing). */
  async take(challengeToken: string): Promise<PendingChallenge | undefined> {
    const raw = await this.redis.getdel(this.key(challengeToken));
    return raw ? (JSON.parse(raw) as PendingChallenge) : undefined;
  }

  private key(token: string): string {
    return `${this.config.QUEUE_PREFIX}:mfa:challenge:${hashToken(token)}`;
  }
}
