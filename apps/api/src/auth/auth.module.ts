import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ApiKeysRepository } from './api-keys.repository.js';
import { BackgroundTasks } from '../common/background-tasks.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { RunTokenAuth } from './run-token.auth.js';
import { AuthRepository } from './auth.repository.js';
import { AuthService } from './auth.service.js';
import { CallerResolver } from './caller-resolver.js';
import { HostedPagesRoute } from './hosted-pages.route.js';
import { AuthProvidersController, OAuthController } from './oauth/oauth.controller.js';
import { OAuthRepository } from './oauth/oauth.repository.js';
import { OAuthService } from './oauth/oauth.service.js';
import { MfaChallengeStore } from './mfa/mfa-challenges.js';
import { AdminMfaController, MfaController } from './mfa/mfa.controller.js';
import { MfaRepository } from './mfa/mfa.repository.js';
import { MfaService } from './mfa/mfa.service.js';
import { LiveSessionService } from './live-session.service.js';
import { RateLimitService } from './rate-limit.service.js';
import { TokenService } from './token.service.js';

/** Credentials and access control for every route (AuthGuard is global). */
@Global()
@Module({
  imports: [JwtModule.register({})],
  controllers: [AuthController, OAuthController, AuthProvidersController, MfaController, AdminMfaController],
  providers: [
    TokenService,
    ApiKeysRepository,
    AuthRepository,
    AuthService,
    RateLimitService,
    LiveSessionService,
    CallerResolver,
    BackgroundTasks,
    RunTokenAuth,
    HostedPagesRoute,
    OAuthRepository,
    OAuthService,
    MfaChallengeStore,
    MfaRepository,
    MfaService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokenService, ApiKeysRepository, LiveSessionService, CallerResolver, RateLimitService, BackgroundTasks],
})
export class AuthModule {}
