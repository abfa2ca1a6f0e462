import { Module } from '@nestjs/common';
import { DatabaseModule } from '#libs/database';
import { QueueModule } from '#libs/queue';
import { LivenessServer } from './health/liveness.server.js';
import { WorkerMetrics } from './metrics/worker-metrics.js';
import { EmailProcessor } from './email/email.processor.js';
import { EmailSweeper } from './email/email-sweeper.js';
import { SystemProcessor } from './system/system.processor.js';
import { Sweeps } from './system/sweeps.js';
import { EventsProcessor } from './functions/events.processor.js';
import { FanOut } from './functions/fan-out.js';
import { FunctionRunsRepository } from './functions/function-runs.repository.js';
import { OutboxRelay } from './outbox/outbox-relay.js';
import { PgListener } from './common/pg-listener.js';
import { RetentionSweep } from './retention/retention.js';
import { RunSweeper } from './functions/run-sweeper.js';
import { FunctionSlots, FunctionsProcessor } from './functions/functions.processor.js';
import { SandboxBridge } from './sandbox/bridge.js';
import { SandboxPool } from './sandbox/sandbox-pool.js';
import { ScheduleSync } from './schedules/schedule-sync.js';

@Module({
  imports: [DatabaseModule, QueueModule],
  providers: [
    LivenessServer,
    WorkerMetrics,
    Sweeps,
    SystemProcessor,
    EmailProcessor,
    EmailSweeper,
    // Functions (docs/functions.md): outbox relay, fan-out, schedules, runs in the sandbox.
    PgListener,
    OutboxRelay,
    FunctionRunsRepository,
    FanOut,
    RunSweeper,
    RetentionSweep,
    EventsProcessor,
    ScheduleSync,
    SandboxBridge,
    SandboxPool,
    FunctionSlots,
    FunctionsProcessor,
  ],
})
export class WorkerModule {}
