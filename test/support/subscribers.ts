import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { SERVICE_KEY } from './config.js';

/**
 * Deploys a function subscribed to `trigger` (db, storage or auth), so that writes record
 * their events in the outbox: without a subscriber they record none (docs/functions.md).
 * Returns the function's name.
 */
export async function subscribe(app: NestFastifyApplication, trigger: Record<string, unknown>, name?: string): Promise<string> {
  const fn = name ?? `sub-${randomBytes(4).toString('hex')}`;
  const res = await request(app.getHttpServer())
    .put(`/v1/functions/${fn}`)
    .set('x-api-key', SERVICE_KEY)
    .send({ source: 'export default async () => null', language: 'js', triggers: [trigger] });
  if (res.status >= 300) throw new Error(`deploying ${fn} failed: ${res.status} ${res.text}`);
  return fn;
}
