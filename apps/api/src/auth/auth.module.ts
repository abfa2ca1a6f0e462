import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ApiKeysRepository } from './api-keys.repository.js';
import { BackgroundTasks } from '../common/background-tasks.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthRepository } from './auth.repository.js';
import { AuthService } from './auth.service.js';
import { CallerResolver } from './caller-resolver.js';
import { LiveSessionService } from './live-session.service.js';
import { RateLimitService } from './rate-limit.service.js';
import { TokenService } from './token.service.js';

/** Credentials and access control for every route (AuthGuard is global). */
@Global()
@Module({
  imports: [JwtModule.register({})],
  controllers: [AuthController],
  providers: [
    TokenService,
    ApiKeysRepository,
    AuthRepository,
    AuthService,
    RateLimitService,
    LiveSessionService,
    CallerResolver,
    BackgroundTasks,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokenService, ApiKeysRepository, LiveSessionService, CallerResolver, RateLimitService, BackgroundTasks],
})
export class AuthModule {}
