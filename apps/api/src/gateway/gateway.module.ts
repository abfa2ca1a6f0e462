import { Module } from '@nestjs/common';
import { GatewayRateLimiter } from './rate-limit.service.js';

/** The edge of the api (CORS, rate limits, caching, compression, timeouts); see gateway.setup.ts. */
@Module({ providers: [GatewayRateLimiter], exports: [GatewayRateLimiter] })
export class GatewayModule {}
