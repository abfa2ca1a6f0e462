import { Module } from '@nestjs/common';
import { ChangeFeed } from './change-feed.js';

/** The realtime change feed, shared by the modules that publish (documents, storage) and realtime itself. */
@Module({
  providers: [ChangeFeed],
  exports: [ChangeFeed],
})
export class FeedModule {}
