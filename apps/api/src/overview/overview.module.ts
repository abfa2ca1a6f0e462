import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { OverviewController } from './overview.controller.js';
import { OverviewRepository } from './overview.repository.js';
import { OverviewService } from './overview.service.js';

/** GET /v1/admin/overview, for the dashboard's first page. */
@Module({ imports: [HealthModule, MetricsModule], controllers: [OverviewController], providers: [OverviewService, OverviewRepository] })
export class OverviewModule {}
