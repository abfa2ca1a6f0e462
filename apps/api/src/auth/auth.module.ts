import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ApiKeysRepository } from './api-keys.repository.js';
import { AuthGuard } from './auth.guard.js';
import { TokenService } from './token.service.js';

/** Credentials and access control for every route (AuthGuard is global). */
@Global()
@Module({
  imports: [JwtModule.register({})],
  providers: [TokenService, ApiKeysRepository, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenService, ApiKeysRepository],
})
export class AuthModule {}
