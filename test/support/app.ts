import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '#libs/config';
import type { DestinationStream } from 'pino';
import { createApp } from '../../apps/api/src/app.factory.js';
import { ProbeModule } from './probe.module.js';
import { testConfig } from './config.js';

/** The real api (real Postgres and Redis) plus the test-only probe routes, ready for supertest. */
export async function startApi(config: AppConfig = testConfig(), options: { logDestination?: DestinationStream } = {}): Promise<NestFastifyApplication> {
  const app = await createApp(config, { imports: [ProbeModule], logDestination: options.logDestination });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
