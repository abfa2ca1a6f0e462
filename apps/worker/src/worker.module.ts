import { Module } from '@nestjs/common';
import { DatabaseModule } from '#libs/database';
import { QueueModule } from '#libs/queue';
import { LivenessServer } from './health/liveness.server.js';
import { SystemProcessor } from './processors/system.processor.js';

@Module({
  imports: [DatabaseModule, QueueModule],
  providers: [LivenessServer, SystemProcessor],
})
export class WorkerModule {}
