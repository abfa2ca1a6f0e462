import fastifyMultipart from '@fastify/multipart';
import fastifyWebsocket from '@fastify/websocket';
import { Module, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { type AppConfig, ConfigModule } from '#libs/config';
import { createLogger, PinoNestLogger } from '#libs/logging';
import type { DestinationStream } from 'pino';
import { ApiModule } from './api.module.js';
import { requestIdFor } from './common/request-id.js';
import { gatewayServerOptions, setupGateway } from './gateway/gateway.setup.js';
import { MetricsEndpoint } from './metrics/metrics.endpoint.js';
import { MetricsService } from './metrics/metrics.service.js';
import { buildOpenApiDocument } from './openapi.js';
import { RealtimeRoutes } from './realtime/realtime.routes.js';

export const API_PREFIX = 'v1';

export interface CreateAppOptions {
  /** Extra modules mounted beside the api (tests add probe routes this way). */
  imports?: ModuleMetadata['imports'];
  /** Where the JSON log goes (stdout unless given; tests read the request log this way). */
  logDestination?: DestinationStream;
}

/** Builds the api (not yet listening): used by main.ts, the e2e tests and the benchmarks. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  @Module({ imports: [ConfigModule.forRoot(config), ApiModule, ...(options.imports ?? [])] })
  class ApiRootModule {}

  const logger = createLogger(config.LOG_LEVEL, 'api', options.logDestination);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    genReqId: requestIdFor,
    bodyLimit: config.BODY_LIMIT_BYTES,
    return503OnClosing: true,
    ...gatewayServerOptions(config),
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiRootModule, adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    bufferLogs: true,
  });
  // First hooks of every request: its id on every answer (preflights and 429s too), timing.
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.get(MetricsService).instrument(fastify);
  // multipart/form-data uploads (storage), read as streams by the route that accepts them.
  await app.register(fastifyMultipart);
  // CORS, rate limits, media types, timeouts, ETags, compression (docs/self-hosting.md, "Gateway").
  await setupGateway(app, config);
  app.get(MetricsEndpoint).register(fastify);
  // Realtime (docs/realtime.md): frames above REALTIME_MAX_FRAME_BYTES get an error frame;
  // ws closes the connection (1009) only beyond this hard ceiling.
  await app.register(fastifyWebsocket, { options: { maxPayload: Math.max(1024 * 1024, config.REALTIME_MAX_FRAME_BYTES * 2) } });
  app.get(RealtimeRoutes).register(fastify);
  app.setGlobalPrefix(API_PREFIX);
  app.enableShutdownHooks();

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, document, {
    jsonDocumentUrl: `${API_PREFIX}/openapi.json`,
    yamlDocumentUrl: `${API_PREFIX}/openapi.yaml`,
  });
  return app;
}
