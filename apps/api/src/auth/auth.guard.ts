import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../common/app-exception.js';
import { ACCESS_KEY, type AccessLevel } from './access.decorator.js';
import { type ApiKeyArea, assertKeyScope, KEY_AREA } from './api-key-scopes.js';
import { type Caller, isAdmin } from './caller.js';
import { CallerResolver } from './caller-resolver.js';
import { RunTokenAuth } from './run-token.auth.js';

/**
 * Resolves the caller of every request from `x-run-token` (a function's ctx call, RunTokenAuth),
 * `x-api-key` or `Authorization: Bearer` (CallerResolver), then
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
    private readonly callers: CallerResolver,
    private readonly runTokens: RunTokenAuth,
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

  private resolve(request: FastifyRequest): Promise<Caller> {
    const runToken = request.headers['x-run-token'];
    if (runToken !== undefined) return this.runTokens.resolve(request, runToken);
    return this.callers.resolve(request.headers['x-api-key'], request.headers.authorization, request.verifiedBearer);
  }
}
