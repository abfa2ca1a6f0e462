import { Module } from '@nestjs/common';
import { DashboardRoute } from './dashboard.route.js';

/** Serves the admin dashboard (apps/dashboard, built into dist/dashboard) at /admin. */
@Module({ providers: [DashboardRoute] })
export class DashboardModule {}
