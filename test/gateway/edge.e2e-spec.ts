import { Agent } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsEndpoint } from '../../apps/api/src/metrics/metrics.endpoint.js';
import { defineCollection, service, uniqueName } from '../collections/support.js';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { drip, listen, rawRequest } from './support.js';

describe('gateway edge: media types, compression, body limits, timeouts', () => {
  let app: NestFastifyApplication;
  let port: number;
  let user: TestUser;
  let notes: string;
  let bucket: string;

  beforeAll(async () => {
    app = await startApi(
      testConfig({
        BODY_LIMIT_BYTES: '8192',
        AUTH_BODY_LIMIT_BYTES: '2048',
        BODY_TIMEOUT_MS: '1500',
        BODY_IDLE_TIMEOUT_MS: '1000',
        HEADERS_TIMEOUT_MS: '1000',
      }),
    );
    port = await listen(app);
    user = await createUser(app);
    notes = await defineCollection(app, {
      name: uniqueName('edge_notes'),
      fields: [{ name: 'title', type: 'string' }],
      rules: { list: 'public', read: 'public', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    for (let i = 0; i < 30; i++) {
      await request(app.getHttpServer()).post(`/v1/collections/${notes}/documents`).set(bearer(user)).send({ title: `note number ${i} with some text` }).expect(201);
    }
    bucket = uniqueName('edge').replace(/_/g, '-');
    await request(app.getHttpServer()).post('/v1/storage/buckets').set(service).send({ name: bucket, maxFileSize: 1000 }).expect(201);
  });
  afterAll(async () => {
    await app.close();
  });

  describe('JSON routes take JSON only', () => {
    const docs = () => `/v1/collections/${notes}/documents`;

    it.each([
      ['application/x-www-form-urlencoded', 'title=hello'],
      ['text/plain', '{"title":"hello"}'],
      ['application/xml', '<title>hello</title>'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n--x--\r\n'],
    ])('refuses %s with 415 UNSUPPORTED_MEDIA_TYPE and stores nothing', async (type, body) => {
      const before = await request(app.getHttpServer()).get(`${docs()}?count=true&limit=1`).expect(200);
      const res = await request(app.getHttpServer()).post(docs()).set(bearer(user)).set('content-type', type).send(body);
      expect(res.status).toBe(415);
      expect(res.body).toEqual({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String), requestId: expect.any(String) });
      const after = await request(app.getHttpServer()).get(`${docs()}?count=true&limit=1`).expect(200);
      expect(after.body.count).toBe(before.body.count);
    });

    it('refuses non-JSON bodies on every JSON route (auth, admin, functions, batch), also without a content type', async () => {
      const cases: [string, string, Record<string, string>][] = [
        ['POST', '/v1/auth/login', {}],
        ['POST', '/v1/auth/signup', {}],
        ['PATCH', '/v1/auth/me', bearer(user)],
        ['POST', '/v1/batch', service],
        ['PUT', '/v1/functions/edge-fn', service],
        ['POST', '/v1/collections', service],
        ['POST', '/v1/storage/buckets', service],
        ['POST', `/v1/storage/buckets/${bucket}/upload-url`, service],
      ];
      for (const [method, path, auth] of cases) {
        const form = await rawRequest(port, { method, path, headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' });
        expect(form.status, `${method} ${path}`).toBe(415);
        expect(JSON.parse(form.body.toString()).code).toBe('UNSUPPORTED_MEDIA_TYPE');
        const untyped = await rawRequest(port, { method, path, headers: auth, body: '{"a":1}' });
        expect(untyped.status, `${method} ${path} without content-type`).toBe(415);
      }
    });

    it('accepts application/json with parameters, and bodiless requests without a type', async () => {
      const res = await rawRequest(port, {
        method: 'POST',
        path: docs(),
        headers: { ...bearer(user), 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ title: 'typed' }),
      });
      expect(res.status).toBe(201);
      const id = JSON.parse(res.body.toString()).id as string;
      expect((await rawRequest(port, { method: 'DELETE', path: `${docs()}/${id}`, headers: bearer(user) })).status).toBe(204);
    });
  });

  describe('compression', () => {
    const list = () => `/v1/collections/${notes}/documents?limit=30`;

    it('compresses JSON above the threshold with brotli or gzip, as Accept-Encoding asks', async () => {
      const plain = await rawRequest(port, { path: list() });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.length).toBeGreaterThan(1024);

      const br = await rawRequest(port, { path: list(), headers: { 'accept-encoding': 'br, gzip' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.headers.vary).toMatch(/accept-encoding/i);
      expect(brotliDecompressSync(br.body)).toEqual(plain.body);
      expect(br.body.length).toBeLessThan(plain.body.length);

      const gz = await rawRequest(port, { path: list(), headers: { 'accept-encoding': 'gzip' } });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gz.body)).toEqual(plain.body);
      // The ETag names the content, whatever the encoding: a 304 still works.
      const again = await rawRequest(port, { path: list(), headers: { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag! } });
      expect(again.status).toBe(304);
    });

    it('leaves small answers alone', async () => {
      const res = await rawRequest(port, { path: '/v1/health/live', headers: { 'accept-encoding': 'br, gzip' } });
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(JSON.parse(res.body.toString())).toEqual({ status: 'ok' });
    });

    it('never re-encodes file bytes: whole files, Range answers and compressed types go as stored', async () => {
      const big = uniqueName('edgebig').replace(/_/g, '-');
      await request(app.getHttpServer()).post('/v1/storage/buckets').set(service).send({ name: big }).expect(201);
      const text = Buffer.from('compressible text '.repeat(500));
      const up = await request(app.getHttpServer())
        .post(`/v1/storage/buckets/${big}/files`)
        .set(service)
        .field('key', 't.txt')
        .attach('file', text, { filename: 't.txt', contentType: 'text/plain' })
        .expect(201);
      const path = `/v1/storage/files/${up.body.id}/content`;
      const whole = await rawRequest(port, { path, headers: { ...service, 'accept-encoding': 'gzip, br' } });
      expect(whole.status).toBe(200);
      expect(whole.headers['content-encoding']).toBeUndefined();
      expect(whole.body).toEqual(text);
      const part = await rawRequest(port, { path, headers: { ...service, 'accept-encoding': 'gzip, br', range: 'bytes=0-2047' } });
      expect(part.status).toBe(206);
      expect(part.headers['content-encoding']).toBeUndefined();
      expect(part.body).toEqual(text.subarray(0, 2048));
    });
  });

  describe('body limits and closing after an early answer', () => {
    it('after a 413 on an oversized multipart upload, the connection is closed cleanly and the next request works', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const boundary = 'edgeboundary';
        const payload = Buffer.concat([
          Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
          Buffer.alloc(512 * 1024, 7),
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]);
        const res = await rawRequest(port, {
          method: 'POST',
          path: `/v1/storage/buckets/${bucket}/files`,
          headers: { ...service, 'content-type': `multipart/form-data; boundary=${boundary}` },
          body: payload,
          agent,
        });
        expect(res.status).toBe(413);
        expect(JSON.parse(res.body.toString()).code).toBe('FILE_TOO_LARGE');
        expect(res.headers.connection).toBe('close');
        for (let i = 0; i < 3; i++) {
          const next = await rawRequest(port, { path: '/v1/health/live', agent });
          expect(next.status).toBe(200);
        }
      } finally {
        agent.destroy();
      }
    });

    it.each([
      ['a JSON body over BODY_LIMIT_BYTES', `/v1/collections/NOTES/documents`, 9000],
      ['an auth body over AUTH_BODY_LIMIT_BYTES', '/v1/auth/login', 3000],
    ])('%s is 413 PAYLOAD_TOO_LARGE with connection: close; the next request works', async (_, path, size) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const body = JSON.stringify({ title: 'x'.repeat(size) });
        const res = await rawRequest(port, {
          method: 'POST',
          path: path.replace('NOTES', notes),
          headers: { ...bearer(user), 'content-type': 'application/json' },
          body,
          agent,
        });
        expect(res.status).toBe(413);
        expect(JSON.parse(res.body.toString()).code).toBe('PAYLOAD_TOO_LARGE');
        expect(res.headers.connection).toBe('close');
        expect((await rawRequest(port, { path: '/v1/health/live', agent })).status).toBe(200);
      } finally {
        agent.destroy();
      }
    });

    it('a login body under the auth limit still works', async () => {
      const res = await request(app.getHttpServer()).post('/v1/auth/login').send({ email: user.email, password: user.password });
      expect(res.status).toBe(200);
    });
  });

  describe('timeouts', () => {
    it('cuts a client that sends a JSON body one byte at a time (BODY_TIMEOUT_MS)', async () => {
      const body = JSON.stringify({ title: 'y'.repeat(200) });
      const head = `POST /v1/collections/${notes}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.accessToken}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      // One byte every 300 ms never trips the 1 s idle limit; the whole-body limit (1.5 s) cuts it.
      const { closed } = await Promise.resolve(drip(port, head, body, 300, 40));
      const { sent } = await closed;
      expect(sent).toBeLessThan(40);
    });

    it('cuts an upload that stalls (BODY_IDLE_TIMEOUT_MS), though uploads may take long overall', async () => {
      const boundary = 'stall';
      const start = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.bin"\r\nContent-Type: application/octet-stream\r\n\r\nabc`;
      const head = `POST /v1/storage/buckets/${bucket}/files HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${SERVICE_KEY}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 500\r\n\r\n${start}`;
      const { closed } = drip(port, head, '', 1000, 0);
      const { sent, received } = await closed;
      expect(sent).toBe(0);
      expect(received).not.toMatch(/^HTTP\/1\.1 201/);
    });

    it('cuts a client that sends its headers one byte at a time (HEADERS_TIMEOUT_MS)', async () => {
      const headers = 'X-Slow: ' + 'z'.repeat(100) + '\r\n\r\n';
      const { closed } = drip(port, 'GET /v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n', headers, 300, 40);
      const { sent, received } = await closed;
      expect(sent).toBeLessThan(40);
      expect(received).not.toContain('"status":"ok"');
    });

    it('does not cut slow handlers or idle kept-alive connections once the body has arrived', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const created = await rawRequest(port, {
          method: 'POST',
          path: `/v1/collections/${notes}/documents`,
          headers: { ...bearer(user), 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'kept' }),
          agent,
        });
        expect(created.status).toBe(201);
        // Longer than the body idle limit, on the same connection: a handler with no bytes to send.
        const slow = await rawRequest(port, { path: '/v1/probe/slow?ms=1600', agent });
        expect(slow.status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 1200));
        expect((await rawRequest(port, { path: '/v1/health/live', agent })).status).toBe(200);
      } finally {
        agent.destroy();
      }
    });
  });
});

describe('metrics access', () => {
  const apps: NestFastifyApplication[] = [];
  const start = async (env: Record<string, string>) => {
    const app = await startApi(testConfig(env));
    apps.push(app);
    return app;
  };
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });
  const TOKEN = 'metrics-token-0123456789abcdef';

  it('is not public by default: 401 without credentials, 200 with the service key', async () => {
    const app = await start({});
    const server = app.getHttpServer();
    const anonymous = await request(server).get('/v1/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
    expect(anonymous.text).not.toContain('http_requests_total');
    expect((await request(server).get('/v1/metrics').set('authorization', `Bearer ${TOKEN}`)).status).toBe(401);
    const user = await createUser(app);
    expect((await request(server).get('/v1/metrics').set(bearer(user))).status).toBe(401);
    expect((await request(server).get('/v1/metrics').set('x-api-key', SERVICE_KEY)).text).toContain('http_requests_total');
  });

  it('takes METRICS_TOKEN as a bearer token (what Prometheus sends)', async () => {
    const server = (await start({ METRICS_TOKEN: TOKEN })).getHttpServer();
    const res = await request(server).get('/v1/metrics').set('authorization', `Bearer ${TOKEN}`).expect(200);
    expect(res.text).toContain('http_requests_total');
    expect((await request(server).get('/v1/metrics').set('authorization', `Bearer ${TOKEN}x`)).status).toBe(401);
    expect((await request(server).get('/v1/metrics')).status).toBe(401);
  });

  it('is public only with METRICS_PUBLIC=true', async () => {
    const server = (await start({ METRICS_PUBLIC: 'true' })).getHttpServer();
    expect((await request(server).get('/v1/metrics').expect(200)).text).toContain('process_resident_memory_bytes');
  });

  it('moves to its own port with METRICS_PORT (same access rule), and leaves the api', async () => {
    const app = await start({ METRICS_PORT: '0', METRICS_TOKEN: TOKEN });
    expect((await request(app.getHttpServer()).get('/v1/metrics').set('authorization', `Bearer ${TOKEN}`)).status).toBe(404);
    const metricsPort = app.get(MetricsEndpoint).address()!.port;
    const ok = await rawRequest(metricsPort, { path: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toContain('http_requests_total');
    expect((await rawRequest(metricsPort, { path: '/metrics' })).status).toBe(401);
    expect((await rawRequest(metricsPort, { path: '/other' })).status).toBe(404);
  });
});
