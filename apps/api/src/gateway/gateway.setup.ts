import { constants as zlibConstants } from 'node:zlib';
import fastifyCompress from '@fastify/compress';
import fastifyCors from '@fastify/cors';
import type { ServerOptions } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import type { AppConfig } from '#libs/config';
import { corsOptions } from './cors.js';
import { gatewayPlugin, routeSettingsHook } from './gateway.plugin.js';
import { GatewayRateLimiter } from './rate-limit.service.js';

/** Fastify server options of the gateway (timeouts); passed to the FastifyAdapter. */
export function gatewayServerOptions(config: AppConfig): Pick<FastifyServerOptions, 'requestTimeout' | 'keepAliveTimeout' | 'trustProxy'> & {
  http: ServerOptions;
} {
  const trust = config.TRUST_PROXY;
  return {
    // A hop count becomes Fastify's "trust the n nearest proxies" function.
    trustProxy: typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust,
    // The whole request (headers and body), whatever the route: the upload ceiling.
    requestTimeout: config.UPLOAD_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    // requestTimeout here too: Node checks headersTimeout against it when the server is
    // created, before Fastify sets it, and would refuse a headers timeout above its own
    // 300 s default that the configuration allows (up to UPLOAD_TIMEOUT_MS).
    http: { headersTimeout: config.HEADERS_TIMEOUT_MS, requestTimeout: config.UPLOAD_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
  };
}

/**
 * Installs the edge before Nest declares its routes (they must see the onRoute hooks):
 * per-route settings, CORS (preflights answered first), compression, then the gateway's
 * own hooks (rate limits, media types, body timeouts, ETags).
 */
export async function setupGateway(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', routeSettingsHook(config));
  await app.register(fastifyCors, corsOptions(config));
  if (config.COMPRESSION_ENABLED) {
    await app.register(fastifyCompress, {
      threshold: config.COMPRESSION_THRESHOLD_BYTES,
      encodings: ['br', 'gzip'],
      // Quality 4 (the plugin's default too): brotli's maximum costs ~50x the CPU.
      brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } },
    });
  }
  await app.register(gatewayPlugin, { config, limiter: app.get<GatewayRateLimiter>(GatewayRateLimiter) });
}
