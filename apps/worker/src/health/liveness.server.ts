import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { WorkerMetrics } from '../metrics/worker-metrics.js';

/**
 * `GET /health/live` on WORKER_HEALTH_PORT for orchestrators (the worker has no HTTP API).
 * Answers 503 once shutdown has begun so no new traffic or restarts are routed to it.
 * `GET /metrics` there serves the worker's Prometheus metrics (WorkerMetrics).
 */
@Injectable()
export class LivenessServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LivenessServer.name);
  private server?: Server;
  private shuttingDown = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.WORKER_HEALTH_PORT === 0) return;
    this.server = createServer((req, res) => {
      if (req.url === '/metrics' && req.method === 'GET') {
        void this.serveMetrics(req.headers, res);
        return;
      }
      const live = req.url === '/health/live' && !this.shuttingDown;
      res.writeHead(live ? 200 : req.url === '/health/live' ? 503 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(live ? { status: 'ok', pid: process.pid } : { status: 'unavailable' }));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject).listen(this.config.WORKER_HEALTH_PORT, this.config.HOST, resolve);
    });
    this.logger.log(`liveness on :${this.config.WORKER_HEALTH_PORT}/health/live`);
  }

  private async serveMetrics(headers: IncomingHttpHeaders, res: ServerResponse): Promise<void> {
    if (!this.metrics.allowed(headers)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(JSON.stringify({ statusCode: 401, code: 'UNAUTHENTICATED', message: 'Send the metrics token (Authorization: Bearer) or the service key' }));
      return;
    }
    try {
      const body = await this.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType, 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(500).end();
    }
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
