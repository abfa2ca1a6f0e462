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

export const triggerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('http'), access: z.enum(['public', 'user', 'admin']).optional() }),
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

export const deployBody = z.strictObject({
  source: z.string().min(1).max(512 * 1024),
  language: z.enum(['js', 'ts']).default('ts').describe('ts (default) also accepts plain JavaScript'),
  triggers: z.array(triggerSchema).max(20).default([{ type: 'http' }]),
  timeoutMs: z.number().int().min(100).max(300_000).default(10_000),
  memoryMb: z.number().int().min(8).max(1024).default(128),
  retries: z.number().int().min(0).max(10).default(2).describe('extra attempts of an event-triggered or async run'),
  backoffMs: z.number().int().min(10).max(3_600_000).default(1000).describe('first retry delay, doubled each retry'),
  concurrency: z.number().int().min(1).max(1000).default(10).describe('most runs of this function at once'),
  secrets: z
    .record(secretName, z.string().max(8192))
    .refine((s) => Object.keys(s).length <= 50, { message: 'at most 50 secrets' })
    .optional()
    .describe('replaces all secrets when given; omitted keeps the current ones; never returned'),
});
export type DeployBody = z.infer<typeof deployBody>;

/** The invoke body: arbitrary JSON (it becomes `event.payload`), without prototype-polluting keys. */
export const invokeBody = safeJsonValue.optional();

export const invokeQuery = z.strictObject({
  async: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export const listFunctionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: functionName.optional(),
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
    secretNames: z.array(z.string()).describe('names of the secrets; their values are never returned'),
    createdAt: timestamp,
    updatedAt: timestamp,
    source: z.string().optional().describe('only in GET /functions/{name}'),
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
export const runList = z.object({ items: z.array(runView), nextCursor: z.string().nullable() }).meta({ id: 'RunList' });

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
