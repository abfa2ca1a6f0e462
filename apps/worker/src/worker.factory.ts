import { NestFactory } from '@nestjs/core';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { type AppConfig, ConfigModule } from '#libs/config';
import { createLogger, PinoNestLogger } from '#libs/logging';
import { WorkerModule } from './worker.module.js';

/**
 * Starts the worker: BullMQ processors begin consuming once the context is initialised.
 * On SIGTERM each BullMQ worker is closed (`worker.close()` waits for its active jobs), so
 * a deploy loses no job.
 */
export async function createWorker(config: AppConfig): Promise<INestApplicationContext> {
  @Module({ imports: [ConfigModule.forRoot(config), WorkerModule] })
  class WorkerRootModule {}

  const logger = createLogger(config.LOG_LEVEL, 'worker');
  const app = await NestFactory.createApplicationContext(WorkerRootModule, {
    logger: new PinoNestLogger(logger),
    bufferLogs: true,
  });
  app.enableShutdownHooks();
  await app.init();
  return app;
}
