import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { safeEqual } from '../auth/token.service.js';
import { AppException } from '../common/app-exception.js';
import { toErrorBody } from '../common/error-response.js';
import { MetricsService } from './metrics.service.js';

export const METRICS_PATH = '/v1/metrics';

/**
 * Where and to whom the Prometheus metrics are served. Not public by default: a scrape
 * must send `Authorization: Bearer <METRICS_TOKEN>` or the bootstrap service key
 * (`x-api-key`), unless METRICS_PUBLIC=true. With METRICS_PORT the metrics move to their own
 * listener (`GET /metrics` and `/v1/metrics` there, same rule) and the api does not serve them.
 *
 * A plain Fastify route, not a Nest controller: the global AuthGuard would refuse the
 * metrics token as an invalid access token before any controller could look at it.
 */
@Injectable()
export class MetricsEndpoint implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | undefined;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Whether these request headers may read the metrics. */
  allowed(headers: IncomingHttpHeaders): boolean {
    if (this.config.METRICS_PUBLIC) return true;
    const token = this.config.METRICS_TOKEN;
    const bearer = /^Bearer (\S{1,512})$/.exec(headers.authorization ?? '')?.[1];
    if (token && bearer !== undefined && safeEqual(bearer, token)) return true;
    const key = headers['x-api-key'];
    return this.config.SERVICE_API_KEY !== undefined && typeof key === 'string' && safeEqual(key, this.config.SERVICE_API_KEY);
  }

  private async answer(headers: IncomingHttpHeaders, requestId: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    if (!this.allowed(headers)) {
      const { body } = toErrorBody(new AppException(401, 'UNAUTHENTICATED', 'Send the metrics token (Authorization: Bearer) or the service key'), requestId);
      return { status: 401, headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' }, body: JSON.stringify(body) };
    }
    const { contentType, body } = await this.metrics.render();
    return { status: 200, headers: { 'content-type': contentType, 'cache-control': 'no-store' }, body };
  }

  /** The api's own `GET /v1/metrics`, unless the metrics have a port of their own. */
  register(fastify: FastifyInstance): void {
    if (this.config.METRICS_PORT !== undefined) return;
    fastify.get(METRICS_PATH, async (request, reply) => {
      const res = await this.answer(request.headers, request.id);
      return reply.code(res.status).headers(res.headers).send(res.body);
    });
  }

  /** The metrics listener's address (METRICS_PORT set and started), for tests and logs. */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.METRICS_PORT === undefined) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const requestId = crypto.randomUUID();
      if (req.method !== 'GET' || (path !== '/metrics' && path !== METRICS_PATH)) {
        res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(
          JSON.stringify(toErrorBody(new AppException(404, 'NOT_FOUND', 'Only GET /metrics is served here'), requestId).body),
        );
        return;
      }
      this.answer(req.headers, requestId).then(
        (answer) => res.writeHead(answer.status, answer.headers).end(answer.body),
        () => res.writeHead(500).end(),
      );
    });
    server.headersTimeout = this.config.HEADERS_TIMEOUT_MS;
    server.requestTimeout = this.config.BODY_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.METRICS_PORT, this.config.HOST, () => resolve());
    });
    this.server = server;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
