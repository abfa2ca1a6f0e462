import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { runTokenSecret, verifyRunToken } from '#libs/functions';
import { AppException } from '../common/app-exception.js';
import { ANONYMOUS, type Caller } from './caller.js';
import { LiveSessionService } from './live-session.service.js';

/**
 * The routes a function's `ctx` calls reach (documents, batch, files, email, users): the only
 * ones a run token opens. Deploying functions, reading runs or secrets, collection schemas,
 * buckets and API keys stay closed to it.
 */
const RUN_TOKEN_ROUTES =
  /^\/v1\/(collections\/:[^/]+\/documents(\/:[^/]+)?|batch|storage\/buckets\/:[^/]+\/files|storage\/files\/:[^/]+(\/content)?|email\/send|admin\/users(\/:[^/]+)?)$/;

/**
 * Resolves `x-run-token` (docs/functions.md, run tokens): the function's own identity
 * (a service caller `function:<function id>`), or the caller who invoked the run (their
 * session checked live, so their rules apply and a revoked session stops the calls).
 */
@Injectable()
export class RunTokenAuth {
  private readonly secret: string;

  constructor(
    private readonly sessions: LiveSessionService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.secret = runTokenSecret(config);
  }

  async resolve(request: FastifyRequest, header: string | string[]): Promise<Caller> {
    const claims = typeof header === 'string' && header.length <= 4096 ? verifyRunToken(this.secret, header) : undefined;
    if (!claims) throw new AppException(401, 'INVALID_TOKEN', 'The run token is invalid or expired');
    if (!RUN_TOKEN_ROUTES.test(request.routeOptions.url ?? '')) {
      throw new AppException(403, 'FORBIDDEN', "A function's run token reaches documents, files, email and users only");
    }
    if (claims.as === 'anonymous') return ANONYMOUS;
    if (claims.as) {
      const live = await this.sessions.check(claims.as.sessionId, claims.as.userId);
      return { kind: 'user', userId: claims.as.userId, email: live.email, roles: live.roles, sessionId: claims.as.sessionId };
    }
    return { kind: 'service', keyId: `function:${claims.fn}` };
  }
}
