import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { SERVICE_KEY } from '../support/config.js';

describe('ops endpoints', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApi();
  });
  afterAll(async () => {
    await app.close();
  });

  it('GET /v1/health/live answers 200', async () => {
    const res = await request(app.getHttpServer()).get('/v1/health/live').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /v1/health/ready checks Postgres, Redis and storage for real', async () => {
    const res = await request(app.getHttpServer()).get('/v1/health/ready').expect(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      ready: true,
      checks: { postgres: { status: 'up' }, redis: { status: 'up' }, storage: { status: 'up' } },
    });
    expect(res.body.checks.postgres.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('GET /v1/metrics counts requests by route pattern and status', async () => {
    await request(app.getHttpServer()).get('/v1/probe/events/0b9f4a59-3c1e-4c43-9a5e-9a1b8b1c2d3e').expect(404);
    await request(app.getHttpServer()).get('/v1/probe/events/not-a-uuid').expect(400);
    // Not public by default (test/gateway/metrics.e2e-spec.ts): the service key may read it.
    const res = await request(app.getHttpServer()).get('/v1/metrics').set('x-api-key', SERVICE_KEY).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/v1\/probe\/events\/:id",status="404"\} 1\b/);
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/v1\/probe\/events\/:id",status="400"\} 1\b/);
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{le="[0-9.]+",method="GET",route="\/v1\/health\/live"/);
    expect(res.text).toContain('process_resident_memory_bytes');
  });

  it('serves the OpenAPI document and the interactive docs page', async () => {
    const doc = await request(app.getHttpServer()).get('/v1/openapi.json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/health/live', '/v1/health/ready']));
    // Request bodies come from the same zod schemas that validate them.
    const probe = doc.body.paths['/v1/probe/events']?.post;
    expect(JSON.stringify(probe?.requestBody)).toContain('payload');

    const page = await request(app.getHttpServer()).get('/v1/docs').expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('swagger');
  });
});
