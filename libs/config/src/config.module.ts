import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from './config.schema.js';

/** Injection token for the typed AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** Provides the AppConfig an entry point loaded (main.ts) or a test built. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
