import { Queue } from 'bullmq';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QueueName } from '#libs/queue';
import { ScheduleSync } from '../../apps/worker/src/schedules/schedule-sync.js';
import { deploy, runsOf, type Stack, startStack, svc, waitForRun } from './support.js';

describe('functions: schedules', () => {
  let stack: Stack;
  let queue: Queue;

  const schedulers = async () => (await queue.getJobSchedulers(0, -1)).map((s) => ({ id: s.id ?? s.key, pattern: s.pattern, tz: s.tz }));

  beforeAll(async () => {
    // Two workers: each syncs the schedulers, and a tick must still run once.
    stack = await startStack({}, 2);
    queue = new Queue(QueueName.Events, { connection: { url: inject('redisUrl') }, prefix: stack.queuePrefix });
  });
  afterAll(async () => {
    await queue?.close();
    await stack?.close();
  });

  it('fires a schedule once per tick with two workers running', async () => {
    await deploy(stack, 'ticker', {
      source: 'export default (event) => ({ at: event.scheduledAt, type: event.type })',
      language: 'js',
      triggers: [{ type: 'schedule', cron: '* * * * * *', timezone: 'Europe/Paris' }],
    });
    await expect.poll(schedulers, { timeout: 10_000 }).toEqual([expect.objectContaining({ pattern: '* * * * * *', tz: 'Europe/Paris' })]);
    await expect.poll(async () => (await runsOf(stack, 'ticker')).length, { timeout: 15_000, interval: 200 }).toBeGreaterThanOrEqual(3);
    const runs = await Promise.all((await runsOf(stack, 'ticker')).map((r) => waitForRun(stack, r.id)));
    const ticks = runs.map((r) => (r.result as { at: string }).at);
    expect(runs.every((r) => r.trigger === 'schedule' && r.status === 'succeeded')).toBe(true);
    expect(new Set(ticks).size).toBe(ticks.length); // no tick ran twice
    for (const at of ticks) expect(new Date(at).getUTCMilliseconds()).toBe(0); // a whole-second tick
  });

  it('keeps Postgres as the source of truth: a lost scheduler comes back, a changed cron replaces it, a delete removes it', async () => {
    const [before] = await schedulers();
    await queue.removeJobScheduler(before!.id);
    await stack.workers[0]!.get(ScheduleSync).sync();
    expect(await schedulers()).toEqual([before]);

    await deploy(stack, 'ticker', {
      source: 'export default () => 1',
      language: 'js',
      triggers: [{ type: 'schedule', cron: '0 3 * * *' }],
    });
    await expect.poll(schedulers, { timeout: 10_000 }).toEqual([expect.objectContaining({ pattern: '0 3 * * *', tz: 'UTC' })]);

    await request(stack.api.getHttpServer()).delete('/v1/functions/ticker').set(svc).expect(204);
    await expect.poll(schedulers, { timeout: 10_000 }).toEqual([]);
  });
});
