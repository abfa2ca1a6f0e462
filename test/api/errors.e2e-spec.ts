import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('error shape', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApi(testConfig({ BODY_LIMIT_BYTES: '2048' }));
  });
  afterAll(async () => {
    await app.close();
  });

  it('an unknown route is 404 NOT_FOUND with a request id in body and header', async () => {
    const res = await request(app.getHttpServer()).get('/v1/no-such-thing').expect(404);
    expect(res.body).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: expect.any(String),
      requestId: expect.stringMatching(UUID),
    });
    expect(res.headers['x-request-id']).toBe(res.body.requestId);
  });

  it('keeps a well-formed incoming x-request-id and replaces a malformed one', async () => {
    const kept = await request(app.getHttpServer()).get('/v1/health/live').set('x-request-id', 'edge-42.abc').expect(200);
    expect(kept.headers['x-request-id']).toBe('edge-42.abc');
    const replaced = await request(app.getHttpServer())
      .get('/v1/health/live')
      .set('x-request-id', 'bad id with spaces <script>')
      .expect(200);
    expect(replaced.headers['x-request-id']).toMatch(UUID);
  });

  it('validation failures are 400 VALIDATION_FAILED with per-field details', async () => {
    const res = await request(app.getHttpServer())
      .post('/v1/probe/events')
      .send({ type: '', payload: 'not-an-object' })
      .expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const paths = (res.body.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(['payload', 'type']);
    expect(res.body.requestId).toMatch(UUID);
  });

  it('a path parameter of the wrong shape is 400, not a database error', async () => {
    const res = await request(app.getHttpServer()).get('/v1/probe/events/not-a-uuid').expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  it('rejects __proto__, constructor and prototype keys anywhere in a body on every route', async () => {
    for (const raw of [
      '{"type":"x","payload":{"constructor":{"prototype":{"polluted":true}}}}',
      '{"type":"x","payload":{"list":[{"prototype":1}]}}',
      '{"type":"x","payload":{"__proto__":{"polluted":true}}}',
    ]) {
      const res = await request(app.getHttpServer()).post('/v1/probe/events').set('content-type', 'application/json').send(raw);
      expect(res.status, raw).toBe(400);
      expect(['VALIDATION_FAILED', 'INVALID_JSON'], raw).toContain(res.body.code);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses such input before the guards, in queries and path parameters too, with the path named', async () => {
    const http = () => request(app.getHttpServer());
    // An admin route without credentials: a safe body is 401, an unsafe one 400 (checked first).
    await http().post('/v1/collections').send({ name: 'x' }).expect(401);
    const body = await http().post('/v1/collections').set('content-type', 'application/json').send('{"name":"x","meta":{"a":[{"constructor":1}]}}').expect(400);
    expect(body.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'meta.a.0.constructor' }] });
    const query = await http().get('/v1/collections/x/documents?limit=1&bad=%00').expect(400);
    expect(query.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'bad' }] });
    const param = await http().get('/v1/collections/a%00b/documents').expect(400);
    expect(param.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'name' }] });
  });

  it('malformed JSON is 400 INVALID_JSON', async () => {
    const res = await request(app.getHttpServer())
      .post('/v1/probe/events')
      .set('content-type', 'application/json')
      .send('{"type": ')
      .expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'INVALID_JSON' });
  });

  it('a body over the configured limit is 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await request(app.getHttpServer())
      .post('/v1/probe/events')
      .send({ type: 'big', payload: { blob: 'x'.repeat(4096) } })
      .expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a Prisma unique violation is 409 CONFLICT and a missing record is 404 NOT_FOUND', async () => {
    const id = randomUUID();
    const body = { id, type: 'probe.created', payload: { n: 1 } };
    await request(app.getHttpServer()).post('/v1/probe/events').send(body).expect(201);
    const dup = await request(app.getHttpServer()).post('/v1/probe/events').send(body).expect(409);
    expect(dup.body.code).toBe('CONFLICT');
    expect(JSON.stringify(dup.body)).not.toContain('outbox_events');

    const found = await request(app.getHttpServer()).get(`/v1/probe/events/${id}`).expect(200);
    expect(found.body).toMatchObject({ id, type: 'probe.created', payload: { n: 1 } });
    const missing = await request(app.getHttpServer()).get(`/v1/probe/events/${randomUUID()}`).expect(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });

  it('an unexpected error is a generic 500 without stack, SQL or paths', async () => {
    const res = await request(app.getHttpServer()).get('/v1/probe/crash').expect(500);
    expect(res.body).toEqual({
      statusCode: 500,
      code: 'INTERNAL_ERROR',
      message: 'An unexpected error occurred',
      requestId: expect.stringMatching(UUID),
    });
    expect(res.text).not.toMatch(/secret|SELECT|\/srv\/|at .*\.ts/);
  });
});
