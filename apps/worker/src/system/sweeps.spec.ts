import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '#libs/config';
import type { EmailSweeper } from '../email/email-sweeper.js';
import type { RunSweeper } from '../functions/run-sweeper.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';
import type { RetentionSweep } from '../retention/retention.js';
import { Sweeps } from './sweeps.js';

/** A queue that keeps job schedulers in a map, as BullMQ keeps them in Redis. */
function fakeQueue(existing: Record<string, number> = {}) {
  const schedulers = new Map(Object.entries(existing).map(([id, every]) => [id, { key: id, name: id, every }]));
  const calls: string[] = [];
  const queue = {
    getJobScheduler: async (id: string) => schedulers.get(id),
    upsertJobScheduler: async (id: string, repeat: { every: number }, template: { name: string }) => {
      calls.push(`upsert ${id} ${repeat.every} ${template.name}`);
      schedulers.set(id, { key: id, name: template.name, every: repeat.every });
    },
    removeJobScheduler: async (id: string) => {
      calls.push(`remove ${id}`);
      return schedulers.delete(id);
    },
  } as unknown as Queue;
  return { queue, schedulers, calls };
}

const config = { RETENTION_SWEEP_INTERVAL_MS: 3_600_000, OUTBOX_POLL_MS: 1000, EMAIL_SWEEP_INTERVAL_MS: 60_000 } as AppConfig;

function sweepsOn(queue: Queue, overrides: Partial<AppConfig> = {}): { sweeps: Sweeps; ran: string[] } {
  const ran: string[] = [];
  const retention = {
    sweep: async () => (ran.push('retention'), { runs: 0, receipts: 0, outbox: 0 }),
    sweepGuests: async () => (ran.push('guests'), { guests: 0 }),
  } as unknown as RetentionSweep;
  const relay = { poll: async () => (ran.push('outbox'), 3) } as unknown as OutboxRelay;
  const runs = { sweep: async () => (ran.push('runs'), 1) } as unknown as RunSweeper;
  const emails = { sweep: async () => (ran.push('emails'), 2) } as unknown as EmailSweeper;
  return { sweeps: new Sweeps(retention, relay, runs, emails, queue, { ...config, ...overrides }), ran };
}

describe('Sweeps', () => {
  it('registers one job scheduler per sweep, with its interval and job name', async () => {
    const { queue, calls } = fakeQueue();
    await sweepsOn(queue).sweeps.schedule();
    expect(calls.sort()).toEqual([
      'upsert email-sweep 60000 email.sweep',
      'upsert guest-cleanup 3600000 auth.guest-cleanup',
      'upsert outbox-poll 1000 outbox.poll',
      'upsert retention-sweep 3600000 retention.sweep',
      'upsert run-sweep 60000 functions.run-sweep',
    ]);
  });

  it('leaves a scheduler with the same interval alone, and updates one with another', async () => {
    const { queue, calls, schedulers } = fakeQueue({ 'retention-sweep': 3_600_000, 'guest-cleanup': 3_600_000, 'run-sweep': 60_000, 'email-sweep': 60_000, 'outbox-poll': 5000 });
    await sweepsOn(queue).sweeps.schedule();
    expect(calls).toEqual(['upsert outbox-poll 1000 outbox.poll']);
    expect(schedulers.get('outbox-poll')?.every).toBe(1000);
  });

  it('removes the scheduler of a sweep switched off (interval 0)', async () => {
    const { queue, calls, schedulers } = fakeQueue({ 'email-sweep': 60_000 });
    await sweepsOn(queue, { EMAIL_SWEEP_INTERVAL_MS: 0 }).sweeps.schedule();
    expect(calls).toContain('remove email-sweep');
    expect(schedulers.has('email-sweep')).toBe(false);
  });

  it('finds the sweep of a job by its name and runs it', async () => {
    const { queue } = fakeQueue();
    const { sweeps, ran } = sweepsOn(queue);
    expect(await sweeps.find('outbox.poll')?.run()).toEqual({ published: 3 });
    expect(await sweeps.find('functions.run-sweep')?.run()).toEqual({ enqueued: 1 });
    expect(await sweeps.find('auth.guest-cleanup')?.run()).toEqual({ guests: 0 });
    expect(sweeps.find('ping')).toBeUndefined();
    expect(ran).toEqual(['outbox', 'runs', 'guests']);
  });
});
