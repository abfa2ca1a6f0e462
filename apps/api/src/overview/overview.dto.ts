import { z } from 'zod';
import { readinessView } from '../health/health.dto.js';

const counts = z.record(z.string(), z.number().int()).describe('rows by status');

export const overviewView = z
  .object({
  generatedAt: z.iso.datetime(),
  health: readinessView.describe('as GET /v1/health/ready answers it'),
  counts: z.object({
    users: z.number().int(),
    collections: z.number().int(),
    functions: z.number().int(),
    buckets: z.number().int(),
    files: z.number().int(),
  }),
  runs: z.object({
    last24h: counts,
    hourly: z
      .array(z.object({ hour: z.iso.datetime(), succeeded: z.number().int(), failed: z.number().int() }))
      .describe('the last 24 hours, oldest first; failed counts failed, timed_out and dead'),
  }),
  email: z.object({ last24h: counts }),
  queues: z.record(
    z.string(),
    z.object({ waiting: z.number().int(), active: z.number().int(), delayed: z.number().int(), failed: z.number().int() }),
  ),
  requests: z
    .object({ total: z.number().int(), errors4xx: z.number().int(), errors5xx: z.number().int() })
    .describe('answered by this api process since it started (sample twice for a rate)'),
  recentErrors: z.array(
    z.object({ at: z.iso.datetime(), source: z.string(), message: z.string(), ref: z.string().optional() }),
  ),
})
  .meta({ id: 'AdminOverview' });
export type OverviewView = z.infer<typeof overviewView>;
