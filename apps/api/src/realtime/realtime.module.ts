import { Module } from '@nestjs/common';
import { CollectionsModule } from '../collections/collections.module.js';
import { RealtimeRoutes } from './realtime.routes.js';
import { RealtimeService } from './realtime.service.js';

/** Live queries over WebSocket and SSE (docs/realtime.md). The ChangeFeed lives with the documents that publish to it. */
@Module({
  imports: [CollectionsModule],
  providers: [RealtimeService, RealtimeRoutes],
  exports: [RealtimeService, RealtimeRoutes],
})
export class RealtimeModule {}
