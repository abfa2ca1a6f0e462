import { Module } from '@nestjs/common';
import { CollectionsModule } from '../collections/collections.module.js';
import { StorageModule } from '../storage/storage.module.js';
import { TransferController } from './transfer.controller.js';
import { TransferRepository } from './transfer.repository.js';
import { TransferService } from './transfer.service.js';

/** Export and import of an installation's data (docs/cli.md, "export / import"). */
@Module({ imports: [CollectionsModule, StorageModule], controllers: [TransferController], providers: [TransferService, TransferRepository] })
export class TransferModule {}
