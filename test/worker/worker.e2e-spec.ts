import type { INestApplicationContext } from '@nestjs/common';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QueueName, SystemJob } from '#libs/queue';
import { createWorker } from '../../apps/worker/src/worker.factory.js';
import { testConfig } from '../support/config.js';

describe('worker', () => {
  const config = testConfig({ WORKER_HEALTH_PORT: '0' });
  const connection = { url: inject('redisUrl') };
  let worker: INestApplicationContext;
  let queue: Queue;
  let events: QueueEvents;

  beforeAll(async () => {
    worker = await createWorker(config);
    queue = new Queue(QueueName.System, { connection, prefix: config.QUEUE_PREFIX });
    events = new QueueEvents(QueueName.System, { connection, prefix: config.QUEUE_PREFIX });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await worker.close();
  });

  it('consumes jobs from its registered queues', async () => {
    const sentAt = new Date().toISOString();
    const job = await queue.add(SystemJob.Ping, { sentAt });
    const result = await job.waitUntilFinished(events, 10_000);
    expect(result).toEqual({ pong: true, sentAt, workerPid: process.pid });
  });

  it('fails a job it does not know instead of dropping it silently', async () => {
    const job = await queue.add('no-such-job', { sentAt: 'x' }, { attempts: 1 });
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/Unknown job no-such-job/);
  });
});
