import { Module } from '@nestjs/common';
import { StorageDriverModule } from '#libs/storage';
import { FeedModule } from '../realtime/feed.module.js';
import { SignedUploadRoute } from './signed-upload.route.js';
import { StorageController } from './storage.controller.js';
import { StorageRepository } from './storage.repository.js';
import { StorageService } from './storage.service.js';

/** Buckets and files (docs/storage.md). */
@Module({
  imports: [StorageDriverModule, FeedModule],
  controllers: [StorageController],
  providers: [StorageService, StorageRepository, SignedUploadRoute],
  exports: [StorageService],
})
export class StorageModule {}
