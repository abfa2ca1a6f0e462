import { z } from 'zod';
import { AUTH_EVENT_NAMES, RUN_STATUSES, TRIGGER_TYPES } from '#libs/functions';
import { safeJsonValue } from '../common/safe-json.js';

/** Names of functions: URL-safe, and never the literal `runs` (a route of its own). */
export const functionName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must start with a letter and have 1-63 lower-case letters, digits, _ or -')
  .refine((n) => n !== 'runs', { message: '"runs" is reserved' });

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/, 'must be a collection name');
const bucketName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be a bucket name');

/** A 5-field cron expression, or 6 with seconds first; checked again with cron-parser by the service. */
const cron = z
  .string()
  .trim()
  .max(200)
  .refine((c) => [5, 6].includes(c.split(/\s+/).length), { message: 'must have 5 fields (or 6 with seconds)' });

/**
 * Who may invoke over http. `user` and `admin` (the names before issue 20) are still
 * accepted and stored as `authenticated` and `role:admin`.
 */
const httpAccess = z
  .union([
    z.enum(['public', 'authenticated', 'service', 'user', 'admin']),
    z.string().regex(/^role:[A-Za-z0-9_-]{1,64}$/, 'must be public, authenticated, service or role:<name>'),
  ])
  .meta({ id: 'HttpAccess' });

export const triggerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('http'),
    access: httpAccess.optional().describe('who may invoke: public, authenticated (default), service, or role:<name>'),
    callerLogs: z.boolean().optional().describe('the user who invoked a run may read its logs (default false)'),
    runAs: z
      .enum(['function', 'caller'])
      .optional()
      .describe('ctx.db, ctx.storage and ctx.email act as the function (default) or as the caller who invoked it (their rules apply)'),
  }),
  z.strictObject({
    type: z.literal('db'),
    collection: identifier,
    events: z.array(z.enum(['create', 'update', 'delete'])).min(1).max(3),
  }),
  z.strictObject({
    type: z.literal('storage'),
    bucket: bucketName,
    events: z.array(z.enum(['upload', 'delete'])).min(1).max(2),
  }),
  z.strictObject({ type: z.literal('auth'), events: z.array(z.enum(AUTH_EVENT_NAMES)).min(1).max(AUTH_EVENT_NAMES.length) }),
  z.strictObject({ type: z.literal('schedule'), cron, timezone: z.string().min(1).max(64).optional() }),
]);

const secretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a variable name (letters, digits, _)');

/** A function's settings; in PUT and PATCH an omitted one keeps its current value. */
const settings = z.strictObject({
  triggers: z.array(triggerSchema).max(20).describe('default [{ "type": "http" }] (access authenticated)'),
  timeoutMs: z.number().int().min(100).max(300_000).describe('default 10000'),
  memoryMb: z.number().int().min(8).max(1024).describe('default 128'),
  retries: z.number().int().min(0).max(10).describe('extra attempts of an event-triggered or async run; default 2'),
  backoffMs: z.number().int().min(10).max(3_600_000).describe('first retry delay, doubled each retry; default 1000'),
  concurrency: z.number().int().min(1).max(1000).describe('most runs of this function at once; default 10'),
  secrets: z
    .record(secretName, z.string().max(8192))
    .refine((s) => Object.keys(s).length <= 50, { message: 'at most 50 secrets' })
    .describe('replaces all secrets when given; omitted keeps the current ones; {} clears; never returned'),
}).partial();

export const deployBody = settings.extend({
  source: z.string().min(1).max(512 * 1024),
  language: z.enum(['js', 'ts']).optional().describe('ts (default) also accepts plain JavaScript'),
});
export type DeployBody = z.infer<typeof deployBody>;

/** PATCH: settings only (the code stays); at least one of them. */
export const patchBody = settings.refine((b) => Object.keys(b).length > 0, { message: 'give at least one setting to change' });
export type PatchBody = z.infer<typeof patchBody>;

export const rollbackBody = z.strictObject({
  version: z.number().int().min(1).describe('the version whose code and settings become current again (as a new version)'),
});

/** The invoke body: arbitrary JSON (it becomes `event.payload`), without prototype-polluting keys. */
export const invokeBody = safeJsonValue.optional();

export const invokeQuery = z.strictObject({
  async: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export const listFunctionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed)'),
});

export const listRunsQuery = z.strictObject({
  function: functionName.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  trigger: z.enum(TRIGGER_TYPES).optional(),
  eventId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});
export type ListRunsQuery = z.infer<typeof listRunsQuery>;

const isoDay = z.iso.date().describe('YYYY-MM-DD (UTC)');
export const usageQuery = z.strictObject({
  from: isoDay.optional().describe('first day (UTC), default 29 days before `to`'),
  to: isoDay.optional().describe('last day (UTC), default today'),
});
export type UsageQuery = z.infer<typeof usageQuery>;

export const runIdParam = z.uuid({ message: 'must be a UUID' });

// ---- Response shapes (OpenAPI only; dates are ISO strings on the wire) ----

const timestamp = z.iso.datetime();
const runStatus = z.enum(RUN_STATUSES);
const runError = z
  .object({ code: z.string(), message: z.string(), stack: z.string().optional() })
  .meta({ id: 'RunError', description: 'why a run failed; code is stable (docs/functions.md)' });

const limits = {
  timeoutMs: z.number().int(),
  memoryMb: z.number().int(),
  retries: z.number().int(),
  backoffMs: z.number().int(),
  concurrency: z.number().int(),
};

export const functionView = z
  .object({
    name: z.string(),
    version: z.number().int(),
    language: z.enum(['js', 'ts']),
    triggers: z.array(triggerSchema),
    ...limits,
    rollbackOf: z.number().int().nullable().describe('the version this one copied, when it is a rollback'),
    secretNames: z.array(z.string()).describe('names of the secrets; their values are never returned'),
    createdAt: timestamp,
    updatedAt: timestamp,
    source: z.string().optional().describe('only in GET /functions/{name}'),
    schedules: z
      .array(z.object({ cron: z.string(), timezone: z.string(), nextRunAt: timestamp.nullable() }))
      .optional()
      .describe('the schedule triggers with their next tick (GET /functions/{name}, when there is one)'),
    lastScheduledRun: z
      .object({ runId: z.uuid(), status: runStatus, scheduledAt: timestamp.nullable(), createdAt: timestamp })
      .nullable()
      .optional()
      .describe('the latest run a schedule started'),
  })
  .meta({ id: 'Function' });
export const functionList = z.object({ items: z.array(functionView), nextCursor: z.string().nullable() }).meta({ id: 'FunctionList' });

export const functionVersionView = z
  .object({
    version: z.number().int(),
    language: z.enum(['js', 'ts']),
    triggers: z.array(triggerSchema),
    ...limits,
    createdBy: z.string().nullable(),
    rollbackOf: z.number().int().nullable().describe('the version this one copied, when it is a rollback'),
    createdAt: timestamp,
  })
  .meta({ id: 'FunctionVersion' });
export const functionVersionList = z
  .object({ items: z.array(functionVersionView), nextCursor: z.null() })
  .meta({ id: 'FunctionVersionList' });

export const runView = z
  .object({
    id: z.uuid(),
    function: z.string(),
    version: z.number().int(),
    trigger: z.enum(TRIGGER_TYPES),
    status: runStatus,
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    durationMs: z.number().int().nullable().describe('billed time of the last attempt'),
    cold: z.boolean().nullable().describe('whether the last attempt needed a new isolate (a cold start); null before it ran'),
    cpuMs: z.number().nullable().describe('CPU time of the last attempt in its isolate'),
    memoryBytes: z.number().nullable().describe('heap in use (V8 heap and buffers) of the isolate when the last attempt ended'),
    logs: z.array(z.object({ level: z.enum(['log', 'info', 'warn', 'error', 'debug']), message: z.string(), at: timestamp })),
    logsTruncated: z.boolean(),
    result: z.unknown().optional().describe('what the handler returned (JSON)'),
    error: runError.optional(),
    eventId: z.uuid().nullable(),
    event: z.unknown().describe('the event the handler received'),
    replayOf: z.uuid().nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: 'Run' });

/** A run as the signed-in user who invoked it reads it. */
export const callerRunView = z
  .object({
    id: z.uuid(),
    function: z.string(),
    version: z.number().int(),
    status: runStatus,
    durationMs: z.number().int().nullable(),
    cold: z.boolean().nullable(),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    logs: runView.shape.logs.optional().describe('only when the function\'s http trigger has callerLogs'),
    logsTruncated: z.boolean().optional(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: 'CallerRun', description: 'a run as the user who invoked it sees it' });
export const runList = z
  .object({ items: z.array(z.union([runView, callerRunView])), nextCursor: z.string().nullable() })
  .meta({ id: 'RunList', description: 'admins and service keys get full runs; a user gets the runs they invoked (CallerRun)' });

export const invocationView = z
  .object({
    runId: z.uuid(),
    status: runStatus,
    result: z.unknown().optional().describe('what the handler returned (JSON), when it succeeded'),
    error: runError.optional(),
    durationMs: z.number().int().nullable(),
  })
  .meta({ id: 'Invocation' });
export const replayView = invocationView.extend({ replayOf: z.uuid() }).meta({ id: 'Replay' });

const usageFields = {
  attempts: z.number().int().describe('attempts that ran (retries count)'),
  coldStarts: z.number().int().describe('attempts that needed a new isolate'),
  wallMs: z.number().describe('wall time of the attempts (the billed duration)'),
  cpuMs: z.number().describe('CPU time of the attempts in their isolates'),
  memoryBytesMax: z.number().describe('most heap in use at the end of one attempt'),
  gbSeconds: z.number().describe('memoryMb × wall time, in GB-seconds'),
};
export const usageView = z
  .object({
    function: z.string(),
    from: z.iso.date(),
    to: z.iso.date(),
    items: z.array(z.object({ day: z.iso.date(), ...usageFields })).describe('days with attempts, oldest first'),
    total: z.object(usageFields),
  })
  .meta({ id: 'FunctionUsage' });
