import { Module } from '@nestjs/common';
import { StorageDriverModule } from '#libs/storage';
import { FeedModule } from '../realtime/feed.module.js';
import { SignedUploadRoute } from './signed-upload.route.js';
import { StorageController } from './storage.controller.js';
import { StorageRepository } from './storage.repository.js';
import { StorageService } from './storage.service.js';
import { BucketsService } from './buckets.service.js';
import { DownloadService } from './download.service.js';
import { PresignedUploadService } from './presigned-upload.service.js';
import { UploadService } from './upload.service.js';

/**
 * Buckets and files (docs/storage.md), one service per flow: buckets, file metadata and
 * access (StorageService), direct upload, presigned upload, download.
 */
@Module({
  imports: [StorageDriverModule, FeedModule],
  controllers: [StorageController],
  providers: [StorageService, BucketsService, UploadService, PresignedUploadService, DownloadService, StorageRepository, SignedUploadRoute],
  exports: [StorageService, UploadService],
})
export class StorageModule {}
