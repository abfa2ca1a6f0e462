import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '#libs/config';
import { createLogger, PinoNestLogger } from '#libs/logging';
import { ApiModule } from './api.module.js';
import { toErrorBody } from './common/error-response.js';
import { requestIdFor } from './common/request-id.js';
import { MetricsService } from './metrics/metrics.service.js';

export const API_PREFIX = 'v1';

/** Builds the api (not yet listening): used by main.ts, the e2e tests and the benchmarks. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const logger = createLogger(config.LOG_LEVEL, 'api');
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    genReqId: requestIdFor,
    requestIdLogLabel: 'requestId',
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    bufferLogs: true,
  });
  app.setGlobalPrefix(API_PREFIX);
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // Errors raised by Fastify itself before Nest sees the request (body too large, bad JSON).
  fastify.setErrorHandler((error, request, reply) => {
    const { body, internal } = toErrorBody(error, request.id);
    if (internal) request.log.error({ err: error }, 'unhandled error');
    void reply.status(body.statusCode).send(body);
  });
  app.get(MetricsService).instrument(fastify);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('BaaS API')
      .setDescription('Auth, data, storage, functions and email for your apps, on your own servers.')
      .setVersion('1')
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'service-key')
      .build(),
  );
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, document, {
    jsonDocumentUrl: `${API_PREFIX}/openapi.json`,
    yamlDocumentUrl: `${API_PREFIX}/openapi.yaml`,
  });
  return app;
}
