import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { AppConfig } from '#libs/config';
import { createLogger, PinoNestLogger } from '#libs/logging';
import { WorkerModule } from './worker.module.js';

/**
 * Starts the worker: BullMQ processors begin consuming once the context is initialised.
 * On SIGTERM each BullMQ worker is closed (`worker.close()` waits for its active jobs), so
 * a deploy loses no job.
 */
export async function createWorker(config: AppConfig): Promise<INestApplicationContext> {
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  const app = await NestFactory.createApplicationContext(WorkerModule, {
    logger: new PinoNestLogger(logger),
    bufferLogs: true,
  });
  app.enableShutdownHooks();
  await app.init();
  return app;
}
