import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import request from 'supertest';
import { inject } from 'vitest';
import { SERVICE_KEY } from '../support/config.js';

export const service = { 'x-api-key': SERVICE_KEY };

/** A collection name no other test file (they share the run's database) will use. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Defines a collection through the api with the service key; returns its name. */
export async function defineCollection(app: NestFastifyApplication, body: Record<string, unknown>): Promise<string> {
  const res = await request(app.getHttpServer()).post('/v1/collections').set(service).send(body);
  if (res.status !== 201) throw new Error(`defining ${String(body.name)} failed: ${res.status} ${res.text}`);
  return res.body.name as string;
}

/** A direct connection to this run's database, to look behind the api (tables, outbox). */
export function directPool(): pg.Pool {
  return new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
}

/** The outbox events of one document, oldest first. */
export async function eventsOf(db: pg.Pool, documentId: string): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  const { rows } = await db.query<{ type: string; payload: Record<string, unknown> }>(
    `SELECT type, payload FROM outbox_events WHERE payload->>'documentId' = $1 ORDER BY created_at, id`,
    [documentId],
  );
  return rows;
}
