import { z } from 'zod';

// Response shapes of the ops routes (OpenAPI only).
const check = z.union([
  z.object({ status: z.literal('up'), latencyMs: z.number() }),
  z.object({ status: z.literal('down'), error: z.string() }),
]);

export const livenessView = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });
export const readinessView = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    ready: z.boolean(),
    checks: z.object({ postgres: check, redis: check, storage: check }),
  })
  .meta({ id: 'Readiness' });
