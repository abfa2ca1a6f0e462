import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';

const ALLOWED = 'http://localhost:5173';

describe('CORS with a list of origins', () => {
  let app: NestFastifyApplication;
  let server: ReturnType<NestFastifyApplication['getHttpServer']>;

  beforeAll(async () => {
    app = await startApi(testConfig({ CORS_ORIGINS: `${ALLOWED}, https://*.example.com, admin.example.org`, CORS_MAX_AGE_SECONDS: '900' }));
    server = app.getHttpServer();
  });
  afterAll(async () => {
    await app.close();
  });

  const preflight = (path: string, origin: string, method = 'POST', headers = 'authorization,content-type') =>
    request(server).options(path).set('Origin', origin).set('Access-Control-Request-Method', method).set('Access-Control-Request-Headers', headers);

  it.each([
    ['/v1/collections/recipes/documents', 'POST'],
    ['/v1/collections/recipes/documents/0b9f4a59-3c1e-4c43-9a5e-9a1b8b1c2d3e', 'PATCH'],
    ['/v1/storage/files/0b9f4a59-3c1e-4c43-9a5e-9a1b8b1c2d3e/content', 'GET'],
    ['/v1/storage/buckets/photos/upload-url', 'POST'],
    ['/v1/storage/signed?token=abc', 'PUT'],
    ['/v1/storage/buckets/photos/files', 'POST'],
    ['/v1/functions/hello/invoke', 'POST'],
    ['/v1/auth/login', 'POST'],
    ['/v1/no/such/route', 'DELETE'],
  ])('answers the preflight of %s (%s) from an allowed origin', async (path, method) => {
    const res = await preflight(path, ALLOWED, method, 'authorization,content-type,x-api-key,range,if-match,if-none-match');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(res.headers['access-control-allow-methods']).toContain(method);
    const allowed = res.headers['access-control-allow-headers']!.split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-api-key', 'range', 'if-match', 'if-none-match']));
    expect(res.headers['access-control-max-age']).toBe('900');
    expect(res.headers.vary).toMatch(/origin/i);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('puts allow-origin and the exposed headers on actual answers, errors included', async () => {
    for (const [path, status] of [
      ['/v1/health/live', 200],
      ['/v1/health/ready', 200],
      ['/v1/collections/nope/documents/0b9f4a59-3c1e-4c43-9a5e-9a1b8b1c2d3e', 404],
      ['/v1/admin/users', 401],
    ] as const) {
      const res = await request(server).get(path).set('Origin', ALLOWED);
      expect(res.status).toBe(status);
      expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
      const exposed = res.headers['access-control-expose-headers']!.split(/,\s*/);
      expect(exposed).toEqual(
        expect.arrayContaining(['x-request-id', 'etag', 'content-range', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy']),
      );
    }
  });

  it('matches *.example.com wildcards on subdomains only, and scheme-less entries on http and https', async () => {
    for (const origin of ['https://app.example.com', 'https://a.b.example.com', 'http://admin.example.org', 'https://admin.example.org']) {
      const res = await request(server).get('/v1/health/live').set('Origin', origin).expect(200);
      expect(res.headers['access-control-allow-origin'], origin).toBe(origin);
    }
    for (const origin of [
      'https://example.com',
      'http://app.example.com',
      'https://evilexample.com',
      'https://app.example.com.evil.test',
      'https://app.example.com:8443',
      'http://localhost:5174',
      'https://localhost:5173',
      'http://x.admin.example.org',
      'null',
    ]) {
      const res = await request(server).get('/v1/health/live').set('Origin', origin).expect(200);
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
  });

  it('gives a refused origin no allow-origin, neither on the preflight nor on the answer', async () => {
    const pre = await preflight('/v1/collections/recipes/documents', 'https://evil.test');
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect(pre.headers['access-control-allow-methods']).toBeUndefined();
    expect(pre.status).toBe(404);
    expect(pre.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', requestId: expect.any(String) });
    const res = await request(server).get('/v1/health/ready').set('Origin', 'https://evil.test').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a bare OPTIONS from an allowed origin like a preflight (never a text/plain error)', async () => {
    const res = await request(server).options('/v1/health/live').set('Origin', ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
  });

  it('answers no CORS headers to clients that send no Origin (servers, mobile apps)', async () => {
    const res = await request(server).get('/v1/health/live').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS by default', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApi(testConfig());
  });
  afterAll(async () => {
    await app.close();
  });

  it('allows any origin with *, since the API takes bearer tokens and keys, never cookies', async () => {
    const server = app.getHttpServer();
    const pre = await request(server)
      .options('/v1/collections/recipes/documents')
      .set('Origin', 'http://localhost:5173')
      .set('Access-Control-Request-Method', 'POST')
      .expect(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-max-age']).toBe('600');
    const res = await request(server).get('/v1/health/live').set('Origin', 'https://anything.test').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});
