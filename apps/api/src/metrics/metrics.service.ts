import { Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

const started = Symbol('metricsStart');

/** Prometheus metrics of this api process: HTTP requests by route and status, plus Node's defaults. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request received to response sent, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Times every request. The label is the route pattern (`/v1/things/:id`), never the raw
   * URL, so the number of series stays bounded; unmatched URLs share one label.
   */
  instrument(fastify: FastifyInstance): void {
    fastify.addHook('onRequest', async (request) => {
      (request as unknown as Record<symbol, bigint>)[started] = process.hrtime.bigint();
    });
    fastify.addHook('onResponse', async (request, reply) => {
      const start = (request as unknown as Record<symbol, bigint | undefined>)[started];
      if (start === undefined) return;
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      };
      this.requests.inc(labels);
      this.duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
  }

  /** Requests this process has answered since it started: all, 4xx and 5xx. */
  async requestTotals(): Promise<{ total: number; errors4xx: number; errors5xx: number }> {
    const totals = { total: 0, errors4xx: 0, errors5xx: 0 };
    for (const { value, labels } of (await this.requests.get()).values) {
      totals.total += value;
      const status = String(labels.status ?? '');
      if (status.startsWith('4')) totals.errors4xx += value;
      else if (status.startsWith('5')) totals.errors5xx += value;
    }
    return totals;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
