import { NestFactory } from '@nestjs/core';
import { type INestApplicationContext, Logger, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { type AppConfig, ConfigModule } from '#libs/config';
import { createLogger, PinoNestLogger } from '#libs/logging';
import { WorkerModule } from './worker.module.js';

/**
 * Starts the worker: BullMQ processors begin consuming once the context is initialised.
 * On SIGTERM each BullMQ worker is closed (`worker.close()` waits for its active jobs), so
 * a deploy loses no job.
 */
export async function createWorker(config: AppConfig, options: { logDestination?: DestinationStream } = {}): Promise<INestApplicationContext> {
  @Module({ imports: [ConfigModule.forRoot(config), WorkerModule] })
  class WorkerRootModule {}

  // Lines are written as they happen (no bufferLogs: nothing would ever flush the buffer).
  const logger = createLogger(config.LOG_LEVEL, 'worker', options.logDestination);
  const app = await NestFactory.createApplicationContext(WorkerRootModule, { logger: new PinoNestLogger(logger) });
  app.enableShutdownHooks();
  await app.init();
  new Logger('Worker').log({
    msg: 'worker started',
    concurrency: config.WORKER_CONCURRENCY,
    sandboxHosts: config.SANDBOX_HOSTS,
    mail: config.SMTP_HOST ? 'smtp' : 'file',
  });
  return app;
}
