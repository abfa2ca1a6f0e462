import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QueueName } from '#libs/queue';
import { HealthService } from '../health/health.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { OverviewView } from './overview.dto.js';
import { OverviewRepository } from './overview.repository.js';

const HOUR = 3_600_000;
const RECENT_ERRORS = 10;

/** What the dashboard's overview shows: counts, 24 h of runs and emails, queue depth, recent failures. */
@Injectable()
export class OverviewService {
  private readonly queues: [string, Queue][];

  constructor(
    private readonly repo: OverviewRepository,
    private readonly metrics: MetricsService,
    private readonly health: HealthService,
    @InjectQueue(QueueName.Email) email: Queue,
    @InjectQueue(QueueName.Events) events: Queue,
    @InjectQueue(QueueName.Functions) functions: Queue,
  ) {
    this.queues = [
      [QueueName.Email, email],
      [QueueName.Events, events],
      [QueueName.Functions, functions],
    ];
  }

  async overview(now = new Date()): Promise<OverviewView> {
    const since = new Date(now.getTime() - 24 * HOUR);
    const [health, counts, runs, emails, hourly, failedRuns, failedEmails, queues, requests] = await Promise.all([
      this.health.readiness(),
      this.repo.counts(),
      this.repo.byStatus('function_runs', since),
      this.repo.byStatus('email_messages', since),
      this.repo.runsPerHour(since),
      this.repo.recentFailedRuns(RECENT_ERRORS),
      this.repo.recentFailedEmails(RECENT_ERRORS),
      this.queueDepths(),
      this.metrics.requestTotals(),
    ]);
    return {
      generatedAt: now.toISOString(),
      health: { status: health.ready ? 'ok' : 'unavailable', ...health },
      counts,
      runs: { last24h: runs, hourly: fillHours(hourly, now) },
      email: { last24h: emails },
      queues,
      requests,
      recentErrors: [
        ...failedRuns.map((r) => ({ at: r.at, source: `function ${r.name}`, message: r.message ?? 'failed', ref: r.id })),
        ...failedEmails.map((e) => ({ at: e.at, source: 'email', message: `${e.name}: ${e.message ?? 'failed'}`, ref: e.id })),
      ]
        .sort((a, b) => b.at.getTime() - a.at.getTime())
        .slice(0, RECENT_ERRORS)
        .map((e) => ({ ...e, at: e.at.toISOString() })),
    };
  }

  private async queueDepths(): Promise<OverviewView['queues']> {
    const entries = await Promise.all(
      this.queues.map(async ([name, queue]) => {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        return [name, { waiting: c['waiting'] ?? 0, active: c['active'] ?? 0, delayed: c['delayed'] ?? 0, failed: c['failed'] ?? 0 }] as const;
      }),
    );
    return Object.fromEntries(entries);
  }
}

/** 24 hourly buckets ending with the current hour, zero where nothing ran. */
export function fillHours(rows: { hour: Date; succeeded: number; failed: number }[], now: Date): OverviewView['runs']['hourly'] {
  const byHour = new Map(rows.map((r) => [r.hour.getTime(), r]));
  const current = Math.floor(now.getTime() / HOUR) * HOUR;
  return Array.from({ length: 24 }, (_, i) => {
    const t = current - (23 - i) * HOUR;
    const r = byHour.get(t);
    return { hour: new Date(t).toISOString(), succeeded: r?.succeeded ?? 0, failed: r?.failed ?? 0 };
  });
}
