import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#libs/config';
import { createStorageDriver, type StorageDriver } from '#libs/storage';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { freePort } from '../support/net.js';

/**
 * Presigned S3 URLs on the proxy's public origin (S3_PUBLIC_SAME_ORIGIN, docs/self-hosting.md).
 * The S3 emulator of the other tests accepts any signature, so the upstream here is a small
 * S3 stand-in that checks AWS Signature V4 query signatures as S3, MinIO and SeaweedFS do:
 * over the method, the path, the query and the Host header it receives.
 */
const ACCESS_KEY = 'proxy-test-access';
const SECRET_KEY = 'proxy-test-secret-0123456789';
const BUCKET = 'baas';

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** Whether the request carries a valid SigV4 query signature for SECRET_KEY (presigned URL). */
function signatureValid(req: IncomingMessage): boolean {
  const [path, query = ''] = req.url!.split('?') as [string, string?];
  const params = new URLSearchParams(query);
  const signature = params.get('X-Amz-Signature');
  const credential = params.get('X-Amz-Credential')?.split('/');
  const amzDate = params.get('X-Amz-Date');
  const signed = params.get('X-Amz-SignedHeaders')?.split(';');
  if (!signature || !credential || credential.length !== 5 || !amzDate || !signed) return false;
  if (credential[0] !== ACCESS_KEY) return false;
  const canonicalQuery = [...params]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signed.map((h) => `${h}:${String(req.headers[h] ?? '').trim()}\n`).join('');
  const canonical = [req.method, path, canonicalQuery, headers, signed.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = credential.slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = credential.slice(1, 5).reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${SECRET_KEY}`);
  return hmac(key, toSign).toString('hex') === signature;
}

/** An S3 stand-in: presigned PUT stores, presigned GET returns; a bad signature gets 403. */
function startS3StandIn(): Promise<{ server: Server; port: number }> {
  const objects = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!signatureValid(req)) return res.writeHead(403).end('SignatureDoesNotMatch');
      const path = req.url!.split('?')[0]!;
      if (req.method === 'PUT') {
        objects.set(path, Buffer.concat(chunks));
        return res.writeHead(200, { etag: '"x"' }).end();
      }
      const body = objects.get(path);
      return body ? res.writeHead(200).end(body) : res.writeHead(404).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

type Rewrite = (req: IncomingMessage) => { path: string; host: string };

/** A reverse proxy in front of the S3 stand-in that forwards with `rewrite`'s path and Host. */
function startProxy(s3Port: number, rewrite: Rewrite): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const { path, host } = rewrite(req);
    const upstream = httpRequest({ host: '127.0.0.1', port: s3Port, method: req.method, path, headers: { ...req.headers, host } }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

const close = (server?: Server) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

/** The compose stack's driver settings, with `publicUrl` as the proxy's origin. */
function driverFor(s3Port: number, env: Record<string, string>): StorageDriver {
  return createStorageDriver(
    parseConfig({
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      S3_ACCESS_KEY: ACCESS_KEY,
      S3_SECRET_KEY: SECRET_KEY,
      S3_BUCKET: BUCKET,
      S3_PUBLIC_SAME_ORIGIN: 'true',
      ...env,
    }),
  );
}

async function roundTrip(driver: StorageDriver, key: string): Promise<[number, number, string]> {
  const putUrl = await driver.presignPut(key, { expiresInSeconds: 60, maxBytes: 5 });
  const put = await fetch(putUrl, { method: 'PUT', body: 'hello' });
  const getUrl = await driver.presignGet(key, { expiresInSeconds: 60, contentType: 'text/plain', contentDisposition: 'inline' });
  const get = await fetch(getUrl);
  return [put.status, get.status, get.status === 200 ? await get.text() : ''];
}

describe('presigned S3 URLs through a reverse proxy on the public origin', () => {
  let s3: { server: Server; port: number };
  const proxies: Server[] = [];

  beforeAll(async () => {
    s3 = await startS3StandIn();
  });
  afterAll(async () => {
    for (const p of proxies) await close(p);
    await close(s3?.server);
  });

  it('the stand-in checks signatures: a direct URL works, a tampered one is refused', async () => {
    const direct = createStorageDriver(
      parseConfig({ STORAGE_DRIVER: 's3', S3_ENDPOINT: `http://127.0.0.1:${s3.port}`, S3_ACCESS_KEY: ACCESS_KEY, S3_SECRET_KEY: SECRET_KEY, S3_BUCKET: BUCKET }),
    );
    expect(await roundTrip(direct, 'files/direct')).toEqual([200, 200, 'hello']);
    const url = await direct.presignGet('files/direct', { expiresInSeconds: 60, contentType: 'text/plain', contentDisposition: 'inline' });
    expect((await fetch(url.replace('files/direct', 'files/other'))).status).toBe(403);
  });

  it('stays valid when the proxy keeps the path and the Host header (what ops/Caddyfile does)', async () => {
    const proxy = await startProxy(s3.port, (req) => ({ path: req.url!, host: req.headers.host! }));
    proxies.push(proxy.server);
    const driver = driverFor(s3.port, { PUBLIC_URL: proxy.origin });
    const url = await driver.presignPut('files/kept', { expiresInSeconds: 60, maxBytes: 5 });
    expect(url.startsWith(`${proxy.origin}/${BUCKET}/files/kept?`)).toBe(true);
    expect(await roundTrip(driver, 'files/kept')).toEqual([200, 200, 'hello']);
  });

  it('breaks when a proxy rewrites the Host header to the upstream (nginx proxy_pass default)', async () => {
    const proxy = await startProxy(s3.port, (req) => ({ path: req.url!, host: `127.0.0.1:${s3.port}` }));
    proxies.push(proxy.server);
    const [put, get] = await roundTrip(driverFor(s3.port, { PUBLIC_URL: proxy.origin }), 'files/rehosted');
    expect([put, get]).toEqual([403, 403]);
  });

  it('refuses endpoints with a path prefix: the S3 client signs host and path without it', () => {
    expect(() => driverFor(s3.port, { PUBLIC_URL: 'https://baas.example.com/s3' })).toThrow(/PUBLIC_URL must have no path/);
    expect(() => driverFor(s3.port, { S3_PUBLIC_ENDPOINT: 'https://baas.example.com/s3' })).toThrow(/S3_PUBLIC_ENDPOINT must have no path/);
    expect(() => driverFor(s3.port, { S3_ENDPOINT: 'http://minio:9000/x' })).toThrow(/S3_ENDPOINT must have no path/);
  });

  describe.skipIf(spawnSync('sh', ['-c', 'command -v caddy']).status !== 0)('with Caddy running ops/Caddyfile', () => {
    let caddy: ChildProcess | undefined;
    let api: NestFastifyApplication;
    let origin: string;
    const dir = mkdtempSync(join(tmpdir(), 'baas-caddy-'));

    beforeAll(async () => {
      api = await startApi(testConfig());
      await api.listen({ port: 0, host: '127.0.0.1' });
      const apiPort = (api.getHttpServer().address() as { port: number }).port;
      const port = await freePort();
      origin = `http://127.0.0.1:${port}`;
      caddy = spawn('caddy', ['run', '--config', 'ops/Caddyfile', '--adapter', 'caddyfile'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          XDG_DATA_HOME: dir,
          XDG_CONFIG_HOME: dir,
          SITE_ADDRESS: `:${port}`,
          S3_BUCKET: BUCKET,
          S3_UPSTREAM: `127.0.0.1:${s3.port}`,
          API_HOST: 'localhost',
          API_PORT: String(apiPort),
          CADDY_ADMIN: `127.0.0.1:${await freePort()}`,
        },
        stdio: 'ignore',
      });
      const deadline = Date.now() + 20_000;
      while ((await fetch(`${origin}/v1/health/live`).catch(() => undefined))?.status !== 200) {
        if (Date.now() > deadline || caddy.exitCode !== null) throw new Error('Caddy did not start (run `caddy run --config ops/Caddyfile` by hand to see why)');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }, 40_000);
    afterAll(async () => {
      caddy?.kill('SIGTERM');
      await api?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves the api and the presigned URLs on the one origin', async () => {
      const ready = await fetch(`${origin}/v1/health/ready`);
      expect(ready.status).toBe(200);
      expect(await roundTrip(driverFor(s3.port, { PUBLIC_URL: origin }), 'files/caddy')).toEqual([200, 200, 'hello']);
      // Outside the bucket's path nothing reaches S3: the api answers (its 404 shape).
      const other = await fetch(`${origin}/other-bucket/files/caddy`);
      expect(await other.json()).toMatchObject({ statusCode: 404, code: expect.any(String) });
      // The dashboard's path goes to the api too (every api response carries x-request-id;
      // S3 would answer an unsigned request 403 without it).
      for (const path of ['/admin', '/admin/users']) expect((await fetch(`${origin}${path}`)).headers.get('x-request-id'), path).toBeTruthy();
    });
  });
});
