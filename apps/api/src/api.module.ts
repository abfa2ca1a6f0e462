import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { DatabaseModule } from '#libs/database';
import { QueueModule } from '#libs/queue';
import { AdminModule } from './admin/admin.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CollectionsModule } from './collections/collections.module.js';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { createValidationPipe } from './common/validation.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { EmailModule } from './email/email.module.js';
import { FunctionsModule } from './functions/functions.module.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OverviewModule } from './overview/overview.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { StorageModule } from './storage/storage.module.js';
import { TransferModule } from './transfer/transfer.module.js';

/** The api's resources. The root module (app.factory.ts) adds the configuration. */
@Module({
  imports: [
    DatabaseModule,
    QueueModule,
    AuthModule,
    AdminModule,
    CollectionsModule,
    DashboardModule,
    EmailModule,
    FunctionsModule,
    GatewayModule,
    HealthModule,
    MetricsModule,
    OverviewModule,
    RealtimeModule,
    StorageModule,
    TransferModule,
  ],
  providers: [
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
  ],
})
export class ApiModule {}
