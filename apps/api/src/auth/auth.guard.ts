import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { AppException } from '../common/app-exception.js';
import { ACCESS_KEY, type AccessLevel } from './access.decorator.js';
import { type ApiKeyArea, assertKeyScope, KEY_AREA } from './api-key-scopes.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ANONYMOUS, type Caller, isAdmin } from './caller.js';
import { LiveSessionService } from './live-session.service.js';
import { RunTokenAuth } from './run-token.auth.js';
import { hashToken, safeEqual, TokenService } from './token.service.js';

/**
 * Resolves the caller of every request from `x-run-token` (a function's ctx call),
 * `x-api-key` or `Authorization: Bearer`, then
 * enforces the route's @Access level. Credentials that are sent must be valid, on any route.
 * A token's signature says who it was issued to; whether that still grants access, and with
 * which roles, is read live (LiveSessionService): a revoked session, a disabled or deleted
 * user and a removed role take effect on the next request, on every route. An admin-created
 * key works only while its creator still is an active admin (ApiKeysRepository).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly apiKeys: ApiKeysRepository,
    private readonly sessions: LiveSessionService,
    private readonly runTokens: RunTokenAuth,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const caller = await this.resolve(request);
    request.caller = caller;
    const level =
      this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]) ??
      'public';
    const area = this.reflector.getAllAndOverride<ApiKeyArea | undefined>(KEY_AREA, [context.getHandler(), context.getClass()]);
    // Scoped keys: every route of an area, and every non-public route, checks the scopes.
    if (area !== undefined || level !== 'public') assertKeyScope(caller, area, request.method);
    if (level === 'public') return true;
    if (caller.kind === 'anonymous') throw new AppException(401, 'UNAUTHENTICATED', 'Sign in or send a service key');
    if (level === 'user') return true;
    if (level === 'admin' && isAdmin(caller)) return true;
    if (level === 'service' && caller.kind === 'service') return true;
    throw new AppException(403, 'FORBIDDEN', 'You may not do this');
  }

  private async resolve(request: FastifyRequest): Promise<Caller> {
    const runToken = request.headers['x-run-token'];
    if (runToken !== undefined) return this.runTokens.resolve(request, runToken);
    const apiKey = request.headers['x-api-key'];
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
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(authorization);
      const claims = match ? await this.tokens.verifyAccess(match[1]!) : undefined;
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
}

function invalidKey(): AppException {
  return new AppException(401, 'INVALID_API_KEY', 'The API key is invalid or revoked');
}
