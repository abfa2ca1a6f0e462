import { Module } from '@nestjs/common';
import { CollectionsModule } from '../collections/collections.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StorageModule } from '../storage/storage.module.js';
import { FeedModule } from './feed.module.js';
import { RealtimeRoutes } from './realtime.routes.js';
import { RealtimeService } from './realtime.service.js';

/** Live queries over WebSocket and SSE (docs/realtime.md): documents and the files of buckets. */
@Module({
  imports: [CollectionsModule, StorageModule, FeedModule, MetricsModule],
  providers: [RealtimeService, RealtimeRoutes],
  exports: [RealtimeService, RealtimeRoutes],
})
export class RealtimeModule {}
