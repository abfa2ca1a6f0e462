import { Global, Module } from '@nestjs/common';
import { loadConfig } from './load-config.js';

/** Injection token for the typed AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({
  providers: [{ provide: APP_CONFIG, useFactory: loadConfig }],
  exports: [APP_CONFIG],
})
export class ConfigModule {}
