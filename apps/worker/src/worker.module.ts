import { Module } from '@nestjs/common';
import { DatabaseModule } from '#libs/database';
import { QueueModule } from '#libs/queue';
import { LivenessServer } from './health/liveness.server.js';
import { WorkerMetrics } from './metrics/worker-metrics.js';
import { EmailProcessor, EmailSweeper } from './processors/email.processor.js';
import { SystemProcessor } from './processors/system.processor.js';
import { EventsProcessor } from './events/events.processor.js';
import { FunctionRunsRepository } from './events/function-runs.repository.js';
import { OutboxRelay } from './events/outbox-relay.js';
import { PgListener } from './events/pg-listener.js';
import { GuestCleanup } from './auth/guest-cleanup.js';
import { RetentionSweep } from './events/retention.js';
import { RunDispatcher, RunSweeper } from './events/run-dispatcher.js';
import { FunctionSlots, FunctionsProcessor } from './processors/functions.processor.js';
import { SandboxBridge } from './sandbox/bridge.js';
import { SandboxPool } from './sandbox/sandbox-pool.js';
import { ScheduleSync } from './schedules/schedule-sync.js';

@Module({
  imports: [DatabaseModule, QueueModule],
  providers: [
    LivenessServer,
    WorkerMetrics,
    SystemProcessor,
    EmailProcessor,
    EmailSweeper,
    // Functions (docs/functions.md): outbox relay, fan-out, schedules, runs in the sandbox.
    PgListener,
    OutboxRelay,
    FunctionRunsRepository,
    RunDispatcher,
    RunSweeper,
    RetentionSweep,
    GuestCleanup,
    EventsProcessor,
    ScheduleSync,
    SandboxBridge,
    SandboxPool,
    FunctionSlots,
    FunctionsProcessor,
  ],
})
export class WorkerModule {}
