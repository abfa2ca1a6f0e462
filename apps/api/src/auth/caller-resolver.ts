import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { AppException } from '../common/app-exception.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ANONYMOUS, type Caller } from './caller.js';
import { LiveSessionService } from './live-session.service.js';
import { type AccessClaims, hashToken, safeEqual, TokenService } from './token.service.js';

/**
 * A bearer token already verified for this request (by the gateway's rate limiter, which
 * needs its user): the Authorization header it came from, and its claims (undefined: invalid).
 */
export interface VerifiedBearer {
  authorization: string;
  claims: AccessClaims | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the gateway when it verified the request's bearer token (gateway.plugin.ts). */
    verifiedBearer: VerifiedBearer | null;
  }
}

/**
 * The caller behind a request's credentials (`x-api-key`, `Authorization: Bearer`), for the
 * AuthGuard of every route and for realtime connections, which authenticate once and then
 * with `auth` frames. Credentials that are sent must be valid: 401 otherwise.
 */
@Injectable()
export class CallerResolver {
  constructor(
    private readonly tokens: TokenService,
    private readonly apiKeys: ApiKeysRepository,
    private readonly sessions: LiveSessionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `verified`: the request's bearer token as the gateway verified it, so it is verified once. */
  async resolve(apiKey: unknown, authorization: unknown, verified: VerifiedBearer | null = null): Promise<Caller> {
    if (apiKey !== undefined) {
      if (typeof apiKey !== 'string' || apiKey.length === 0 || apiKey.length > 200) throw invalidKey();
      if (this.config.SERVICE_API_KEY && safeEqual(apiKey, this.config.SERVICE_API_KEY)) {
        return { kind: 'service', keyId: 'bootstrap' };
      }
      // Looked up by hash: the comparison happens on a digest, never on the secret itself.
      const key = await this.apiKeys.findUsableByHash(hashToken(apiKey));
      if (!key) throw invalidKey();
      return { kind: 'service', keyId: key.id, scopes: key.scopes };
    }
    if (authorization !== undefined) {
      const claims = verified !== null && verified.authorization === authorization ? verified.claims : await this.verify(authorization);
      if (!claims) throw new AppException(401, 'INVALID_TOKEN', 'The access token is invalid or expired');
      const live = await this.sessions.check(claims.sid, claims.sub);
      return {
        kind: 'user',
        userId: claims.sub,
        email: live.email,
        roles: live.roles,
        sessionId: claims.sid,
        emailVerified: live.emailVerified,
        ...(claims.aal ? { aal: claims.aal } : {}),
        ...(claims.amr ? { amr: claims.amr } : {}),
      };
    }
    return ANONYMOUS;
  }

  private async verify(authorization: unknown): Promise<AccessClaims | undefined> {
    const match = typeof authorization === 'string' ? /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(authorization) : null;
    return match ? this.tokens.verifyAccess(match[1]!) : undefined;
  }
}

function invalidKey(): AppException {
  return new AppException(401, 'INVALID_API_KEY', 'The API key is invalid or revoked');
}
