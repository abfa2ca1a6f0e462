import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { SandboxPool } from '../sandbox/sandbox-pool.js';

/**
 * Prometheus metrics of a worker process, served at `GET /metrics` on WORKER_HEALTH_PORT
 * (same access rule as the api's: METRICS_TOKEN as a bearer token or the service key, unless
 * METRICS_PUBLIC). Function attempts by start (cold or warm) and status, their wall and CPU
 * time, the sandbox hosts alive and their warm isolates.
 */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly attempts = new Counter({
    name: 'function_attempts_total',
    help: 'Function run attempts that reached a sandbox, by start (cold: a new isolate for the version; warm: a kept one) and status',
    labelNames: ['start', 'status'] as const,
    registers: [this.registry],
  });
  private readonly wall = new Histogram({
    name: 'function_attempt_duration_seconds',
    help: 'Wall time of function attempts in the sandbox, by start',
    labelNames: ['start'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly cpu = new Counter({
    name: 'function_cpu_seconds_total',
    help: 'CPU time function isolates spent on attempts',
    registers: [this.registry],
  });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    pool: SandboxPool,
  ) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'sandbox_hosts',
      help: 'Sandbox host processes alive in this worker (0 when idle: they start on demand)',
      registers: [this.registry],
      collect() {
        this.set(pool.hostPids().length);
      },
    });
    new Gauge({
      name: 'sandbox_warm_isolates',
      help: 'Warm isolates (one per function version and concurrent run) in this worker\'s sandbox hosts',
      registers: [this.registry],
      async collect() {
        this.set((await pool.stats()).isolates);
      },
    });
    new Gauge({
      name: 'sandbox_warm_heap_bytes',
      help: 'Heap in use of the warm isolates in this worker\'s sandbox hosts',
      registers: [this.registry],
      async collect() {
        this.set((await pool.stats()).heapBytes);
      },
    });
  }

  attempt(outcome: { status: string; durationMs: number; cold?: boolean; cpuMs?: number }): void {
    if (outcome.cold === undefined) return; // never reached a sandbox
    const start = outcome.cold ? 'cold' : 'warm';
    this.attempts.inc({ start, status: outcome.status });
    this.wall.observe({ start }, outcome.durationMs / 1000);
    if (outcome.cpuMs) this.cpu.inc(outcome.cpuMs / 1000);
  }

  /** Whether these request headers may read the metrics. */
  allowed(headers: IncomingHttpHeaders): boolean {
    if (this.config.METRICS_PUBLIC) return true;
    const bearer = /^Bearer (\S{1,512})$/.exec(headers.authorization ?? '')?.[1];
    if (this.config.METRICS_TOKEN && bearer !== undefined && same(bearer, this.config.METRICS_TOKEN)) return true;
    const key = headers['x-api-key'];
    return this.config.SERVICE_API_KEY !== undefined && typeof key === 'string' && same(key, this.config.SERVICE_API_KEY);
  }
}

/** Constant-time comparison of two secrets of any length. */
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
