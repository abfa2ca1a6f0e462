import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { inject } from 'vitest';
import type { AppConfig } from '#libs/config';
import type pg from 'pg';
import { PG_POOL, PrismaService } from '#libs/database';
import { QueueName } from '#libs/queue';
import { EmailService } from '../../apps/api/src/email/email.service.js';
import { createWorker } from '../../apps/worker/src/worker.factory.js';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { createMigratedDatabase } from '../support/databases.js';
import { SmtpSink } from '../support/smtp-sink.js';

export interface EmailStack {
  config: AppConfig;
  api: NestFastifyApplication;
  /** The worker (email processor + sweeper), when started. */
  worker?: INestApplicationContext;
  sink: SmtpSink;
  prisma: PrismaService;
  pool: pg.Pool;
  email: EmailService;
  /** The email queue, for inspecting jobs. */
  queue: Queue;
  close(): Promise<void>;
}

/**
 * api + (optionally) worker + an SMTP sink, on their own database and queue prefix (other
 * test files start workers too; they must not take this stack's email jobs). Retries are
 * fast (200 ms doubling) and the sweeper's timer is off: tests call sweep() themselves.
 */
export async function startEmailStack(options: { worker: boolean; env?: Record<string, string> }): Promise<EmailStack> {
  // A database of its own, so the sweeper and the delivery log see only this file's emails.
  const db = await createMigratedDatabase(inject('adminDatabaseUrl'), 'baas_email');
  const sink = new SmtpSink();
  await sink.start();
  const config = testConfig({
    DATABASE_URL: db.url,
    // Unique per stack (several test files here run workers at once); at most 32 characters.
    QUEUE_PREFIX: `${inject('queuePrefix').slice(0, 27)}_${randomBytes(2).toString('hex')}`,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(sink.port),
    MAIL_FROM: 'Acme Test <no-reply@acme.test>',
    PUBLIC_URL: 'http://app.test',
    EMAIL_RETRY_BASE_MS: '200',
    EMAIL_MAX_ATTEMPTS: '30',
    EMAIL_SWEEP_INTERVAL_MS: '0',
    ...options.env,
  });
  const api = await startApi(config);
  const worker = options.worker ? await createWorker(config) : undefined;
  const queue = new Queue(QueueName.Email, { connection: { url: config.REDIS_URL }, prefix: config.QUEUE_PREFIX });
  return {
    config,
    api,
    worker,
    sink,
    prisma: api.get(PrismaService),
    pool: api.get<pg.Pool>(PG_POOL),
    email: api.get(EmailService),
    queue,
    async close() {
      await worker?.close();
      await api.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await sink.stop();
      await db.drop();
    },
  };
}

/** Polls `read` until `done` holds for its value (or fails after `timeoutMs`), and returns it. */
export async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Decodes the HTML entities escapeHtml produces (for reading an href back out of a message). */
export function unescapeHtml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
