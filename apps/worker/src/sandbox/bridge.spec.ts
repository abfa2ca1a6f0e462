import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { LocalDiskDriver, UrlSigner } from '#libs/storage';
import { BridgeError, SandboxBridge } from './bridge.js';
import { SANDBOX_LIMITS } from './protocol.js';

/**
 * SandboxBridge (what `ctx` does in the worker) as a Nest service, against a fake api on
 * loopback whose files live on the local-disk storage driver. The routes, the argument
 * checks, the 404 → null answers and the error mapping are decided here; the e2e suite
 * (test/functions/ctx-api.e2e-spec.ts and others) goes through a deployed function and a
 * polled run for the same decisions.
 */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Route = (req: Seen, res: ServerResponse) => unknown;

describe('SandboxBridge', () => {
  let server: Server;
  let bridge: SandboxBridge;
  let dir: string;
  let files: LocalDiskDriver;
  const seen: Seen[] = [];
  const routes = new Map<string, Route>();
  const TOKEN = 'run-token-1';

  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const call = (method: string, args: unknown[], body?: Uint8Array, remainingMs = 5_000) => bridge.handle(method, args, body, remainingMs, TOKEN);
  const refusal = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BridgeError);
    return err as BridgeError;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bridge-spec-'));
    files = new LocalDiskDriver({ root: dir, signer: new UrlSigner('x'.repeat(32)), signedUrlBase: 'http://127.0.0.1/v1/storage/signed' });
    await files.init();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const entry: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
        seen.push(entry);
        const path = entry.url.split('?')[0]!;
        const route = routes.get(`${entry.method} ${path}`);
        if (!route) return json(res, 404, { code: 'NOT_FOUND', message: 'no such route' });
        Promise.resolve(route(entry, res)).catch((err: Error) => json(res, 500, { code: 'TEST_ROUTE_FAILED', message: err.message }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const module = await Test.createTestingModule({
      providers: [SandboxBridge, { provide: APP_CONFIG, useValue: { API_INTERNAL_URL: `http://127.0.0.1:${port}` } as AppConfig }],
    }).compile();
    bridge = module.get(SandboxBridge);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen.length = 0;
    routes.clear();
  });

  it('creates a document through the api with the run token, never another credential', async () => {
    routes.set('POST /v1/collections/posts/documents', (req, res) => json(res, 201, { id: 'p1', ...(JSON.parse(req.body.toString()) as object) }));
    expect(await call('db.create', ['posts', { title: 'hi' }])).toEqual({ id: 'p1', title: 'hi' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['x-run-token']).toBe(TOKEN);
    expect(seen[0]!.headers['x-api-key']).toBeUndefined();
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.headers['content-type']).toBe('application/json');
  });

  it('turns get/list options into the REST query, refuses unknown ones before any request, and encodes path segments', async () => {
    routes.set('GET /v1/collections/posts/documents/a%2Fb', (_req, res) => json(res, 200, { id: 'a/b' }));
    routes.set('GET /v1/collections/posts/documents', (_req, res) => json(res, 200, { items: [] }));
    await call('db.get', ['posts', 'a/b', { fields: ['title', 'body'], expand: 'author' }]);
    await call('db.list', ['posts', { filter: { title: { eq: 'x' } }, limit: 5, count: true, sort: undefined }]);
    const [get, list] = seen.map((s) => new URL(s.url, 'http://api'));
    expect(get!.pathname).toBe('/v1/collections/posts/documents/a%2Fb');
    expect(Object.fromEntries(get!.searchParams)).toEqual({ fields: 'title,body', expand: 'author' });
    expect(Object.fromEntries(list!.searchParams)).toEqual({ filter: '{"title":{"eq":"x"}}', limit: '5', count: 'true' });

    seen.length = 0;
    const unknown = await refusal(call('db.list', ['posts', { filtr: {} }]));
    expect(unknown.code).toBe('INVALID_ARGUMENT');
    expect(unknown.message).toContain('unknown option "filtr"');
    expect((await refusal(call('db.get', ['', 'id']))).code).toBe('INVALID_ARGUMENT');
    expect((await refusal(call('db.create', ['posts', ['not', 'an', 'object']]))).code).toBe('INVALID_ARGUMENT');
    expect((await refusal(call('db.nope', []))).code).toBe('UNKNOWN_METHOD');
    expect(seen).toEqual([]);
  });

  it('answers null (or false) for what the api does not find, and the api error otherwise', async () => {
    routes.set('DELETE /v1/collections/posts/documents/gone', (_req, res) => json(res, 404, { code: 'DOCUMENT_NOT_FOUND', message: 'x' }));
    routes.set('DELETE /v1/collections/posts/documents/p1', (_req, res) => res.writeHead(204).end());
    routes.set('PATCH /v1/collections/posts/documents/p1', (_req, res) =>
      json(res, 400, { code: 'VALIDATION_FAILED', message: 'Invalid document', details: [{ path: 'title', message: 'required' }] }),
    );
    expect(await call('db.get', ['posts', 'missing'])).toBeNull(); // no route: the fake api answers 404
    expect(await call('auth.get', ['u-missing'])).toBeNull();
    expect(await call('db.delete', ['posts', 'gone'])).toBe(false);
    expect(await call('db.delete', ['posts', 'p1'])).toBe(true);
    const invalid = await refusal(call('db.update', ['posts', 'p1', { title: '' }]));
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(invalid.message).toBe('Invalid document: [{"path":"title","message":"required"}]');
    // db.list has no null answer: a 404 is the api's error.
    expect(await refusal(call('db.list', ['nowhere']))).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('uploads as multipart and downloads the same bytes; a file over the download cap is refused on its size before any byte moves', async () => {
    const meta = new Map<string, { id: string; key: string; size: number; contentType: string }>();
    routes.set('POST /v1/storage/buckets/avatars/files', async (req, res) => {
      const form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': req.headers['content-type']! } }).formData();
      const key = form.get('key') as string;
      const file = form.get('file') as File;
      const { size } = await files.put(`avatars/${key}`, Readable.from(Buffer.from(await file.arrayBuffer())), { contentType: file.type });
      const record = { id: `f${meta.size + 1}`, key, size, contentType: file.type };
      meta.set(record.id, record);
      json(res, 201, { ...record, name: file.name });
    });
    routes.set('GET /v1/storage/files/f1', (_req, res) => json(res, 200, meta.get('f1')));
    routes.set('GET /v1/storage/files/f1/content', async (_req, res) => {
      res.writeHead(200, { 'content-type': meta.get('f1')!.contentType });
      (await files.get(`avatars/${meta.get('f1')!.key}`)).pipe(res);
    });
    routes.set('GET /v1/storage/files/huge', (_req, res) => json(res, 200, { id: 'huge', size: SANDBOX_LIMITS.maxDownloadBytes + 1 }));

    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const uploaded = await call('storage.upload', ['avatars', 'me/pic.bin', { contentType: 'image/png' }], bytes);
    expect(uploaded).toMatchObject({ id: 'f1', key: 'me/pic.bin', size: 5, contentType: 'image/png', name: 'pic.bin' });
    expect(await files.stat('avatars/me/pic.bin')).toMatchObject({ size: 5 });

    const downloaded = (await call('storage.download', ['f1'])) as { file: unknown; contentType: string; data: Uint8Array };
    expect(downloaded.contentType).toBe('image/png');
    expect([...downloaded.data]).toEqual([...bytes]);

    seen.length = 0;
    expect(await refusal(call('storage.download', ['huge']))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(seen.map((s) => s.url)).toEqual(['/v1/storage/files/huge']); // the content was never asked for
    expect(await call('storage.download', ['nothing-here'])).toBeNull();
    expect((await refusal(call('storage.upload', ['avatars', '', {}], bytes))).code).toBe('INVALID_ARGUMENT');
    expect((await refusal(call('storage.upload', ['avatars', 'k', {}]))).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses an api answer larger than the cap on its declared length', async () => {
    routes.set('GET /v1/collections/big/documents', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(SANDBOX_LIMITS.maxApiResponseBytes + 1) });
      res.end('{}'); // the bridge stops at the header; the short body is never read
    });
    expect(await refusal(call('db.list', ['big']))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('refuses an api answer that streams past the cap without a declared length, and still answers the next call', async () => {
    routes.set('GET /v1/collections/stream/documents', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length
      const chunk = 'x'.repeat(64 * 1024);
      const write = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', write);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      write();
    });
    expect(await refusal(call('db.list', ['stream']))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    routes.set('GET /v1/collections/small/documents', (_req, res) => json(res, 200, { items: [], nextCursor: null }));
    expect(await call('db.list', ['small'])).toEqual({ items: [], nextCursor: null });
  });

  it('answers PLATFORM_UNAVAILABLE when nothing listens at API_INTERNAL_URL', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    await new Promise((resolve) => probe.close(resolve));
    const closed = new SandboxBridge({ API_INTERNAL_URL: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 1}` } as AppConfig);
    const err = await refusal(closed.handle('db.get', ['c', 'id'], undefined, 2_000, TOKEN));
    expect(err).toMatchObject({ code: 'PLATFORM_UNAVAILABLE', message: 'ctx call could not reach the api (API_INTERNAL_URL)' });
  });

  it('finds a user by exact email, case-insensitively, among the search results', async () => {
    routes.set('GET /v1/admin/users', (req, res) => {
      expect(Object.fromEntries(new URL(req.url, 'http://api').searchParams)).toEqual({ search: 'ada@example.test', limit: '100' });
      json(res, 200, { items: [{ id: 'u1', email: 'ada@example.test.org' }, { id: 'u2', email: 'Ada@Example.test' }] });
    });
    expect(await call('auth.findByEmail', ['  ADA@example.TEST '])).toEqual({ id: 'u2', email: 'Ada@Example.test' });
    routes.set('GET /v1/admin/users', (_req, res) => json(res, 200, { items: [{ id: 'u1', email: 'other@example.test' }] }));
    expect(await call('auth.findByEmail', ['ada@example.test'])).toBeNull();
    expect((await refusal(call('auth.findByEmail', [42]))).code).toBe('INVALID_ARGUMENT');
  });

  it('answers PLATFORM_UNAVAILABLE when the api does not answer within the call budget', async () => {
    routes.set('GET /v1/storage/files/slow', () => undefined); // never answers
    const slow = await refusal(call('storage.get', ['slow'], undefined, 200));
    expect(slow).toMatchObject({ code: 'PLATFORM_UNAVAILABLE', message: 'ctx call timed out (API_INTERNAL_URL)' });
  });

  it('uses the credentials hook instead of the run token when one is set (selfbaas run)', async () => {
    routes.set('GET /v1/storage/files/f9', (_req, res) => json(res, 200, { id: 'f9' }));
    bridge.credentials = (token) => ({ 'x-api-key': `key-for-${token}` });
    try {
      await call('storage.get', ['f9']);
    } finally {
      bridge.credentials = undefined;
    }
    expect(seen[0]!.headers['x-api-key']).toBe(`key-for-${TOKEN}`);
    expect(seen[0]!.headers['x-run-token']).toBeUndefined();
  });

  it('fetch goes through the network guard: loopback is refused with its code, for the request and for the pre-check', async () => {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/anything`;
    expect(await refusal(call('fetch', [url, { method: 'GET' }]))).toMatchObject({ code: 'ADDRESS_REFUSED' });
    expect(await refusal(call('fetch.check', [url]))).toMatchObject({ code: 'ADDRESS_REFUSED' });
    expect(await refusal(call('fetch', [42]))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refusal(call('fetch', ['http://example.test/'], new Uint8Array(SANDBOX_LIMITS.maxFetchBodyBytes + 1)))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(seen).toEqual([]); // nothing reached the loopback server
  });
});
