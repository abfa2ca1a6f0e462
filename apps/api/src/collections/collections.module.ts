import { Module } from '@nestjs/common';
import { CollectionsController } from './collections.controller.js';
import { CollectionsRepository } from './collections.repository.js';
import { CollectionsService } from './collections.service.js';
import { BatchController } from './documents/batch.controller.js';
import { BatchService } from './documents/batch.service.js';
import { DocumentsController } from './documents/documents.controller.js';
import { DocumentsRepository } from './documents/documents.repository.js';
import { DocumentsService } from './documents/documents.service.js';
import { DocumentExpansion } from './documents/expansion.js';
import { FeedModule } from '../realtime/feed.module.js';

/** Runtime collections: definitions (admin), their documents and batches (rules + acl). */
@Module({
  imports: [FeedModule],
  controllers: [CollectionsController, DocumentsController, BatchController],
  providers: [CollectionsRepository, CollectionsService, DocumentsRepository, DocumentExpansion, DocumentsService, BatchService],
  exports: [CollectionsService, DocumentsService],
})
export class CollectionsModule {}
