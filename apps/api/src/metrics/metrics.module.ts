import { Module } from '@nestjs/common';
import { MetricsEndpoint } from './metrics.endpoint.js';
import { MetricsService } from './metrics.service.js';

@Module({ providers: [MetricsService, MetricsEndpoint], exports: [MetricsService, MetricsEndpoint] })
export class MetricsModule {}
