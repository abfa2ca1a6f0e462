import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS, type Caller } from './caller.js';

/**
 * Who may call a route. `public`: anyone (credentials, when sent, must still be valid);
 * `user`: a signed-in user or the service role; `admin`: an admin user or the service role;
 * `service`: the service role only. Routes without it are `public`.
 * It is the one decorator a route needs for its credentials: the OpenAPI document derives each
 * operation's `security` (bearer token, service key, optional for public routes that read the
 * caller) from this level (securityOf in openapi.ts), so controllers carry no
 * @ApiBearerAuth/@ApiSecurity of their own.
 */
export type AccessLevel = 'public' | 'user' | 'admin' | 'service';
export const ACCESS_KEY = 'baas:access';
export const Access = (level: AccessLevel) => SetMetadata(ACCESS_KEY, level);

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** The resolved caller of this request (anonymous when no credentials were sent). */
export const CurrentCaller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Caller => ctx.switchToHttp().getRequest<FastifyRequest>().caller ?? ANONYMOUS,
);
