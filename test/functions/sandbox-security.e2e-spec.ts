import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxBridge } from '../../apps/worker/src/sandbox/bridge.js';
import { isBlockedAddress } from '../../apps/worker/src/sandbox/net-guard.js';
import { SANDBOX_LIMITS } from '../../apps/worker/src/sandbox/protocol.js';
import { SandboxPool } from '../../apps/worker/src/sandbox/sandbox-pool.js';
import { deploy, type Stack, startStack, svc, waitForRun } from './support.js';

/**
 * Issue 11 (functions side), against the real api and worker: what a function can do to
 * the sandbox host, the worker and the run records (the host-level class tests are in
 * apps/worker/src/sandbox/sandbox-host.spec.ts, the address forms in net-guard.spec.ts).
 */
describe('functions: sandbox security', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;
  const servers: Server[] = [];
  let seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  let port2 = 0;
  let port3 = 0;

  const invoke = (name: string, body: unknown = {}) => http.post(`/v1/functions/${name}/invoke`).set(svc).send(body as object);
  const js = (name: string, source: string, extra: Record<string, unknown> = {}) =>
    deploy(stack, name, { source, language: 'js', triggers: [{ type: 'http' }], ...extra });

  /** A test server on one loopback address (the bridge lets 127.0.0.2 and .3 through, nothing else). */
  async function listen(host: string, handler: RequestListener): Promise<number> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  beforeAll(async () => {
    stack = await startStack({ WORKER_CONCURRENCY: '4' });
    http = request(stack.api.getHttpServer());
    stack.workers[0]!.get(SandboxBridge).isBlocked = (a) => a !== '127.0.0.2' && a !== '127.0.0.3' && isBlockedAddress(a);
    port3 = await listen('127.0.0.3', (req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      res.end('third');
    });
    port2 = await listen('127.0.0.2', (req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      if (req.url === '/cross') res.writeHead(307, { location: `http://127.0.0.3:${port3}/landed` }).end();
      else if (req.url === '/same') res.writeHead(302, { location: '/landed' }).end();
      else res.end('second');
    });
    await js('ok', 'export default (event) => event.payload.n * 2');
  });
  afterAll(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
    await stack?.close();
  });

  async function stillServes(): Promise<void> {
    const res = await invoke('ok', { n: 21 }).expect(200);
    expect(res.body).toMatchObject({ status: 'succeeded', result: 42 });
  }

  it("#3: a function's timer flood or log flood does not abort the host, nor fail another function's run on it", async () => {
    const pool = stack.workers[0]!.get(SandboxPool);
    await js('sleeper', 'export default async () => { await new Promise((r) => setTimeout(r, 1500)); return "slept"; }', { retries: 2 });
    await js('timers', 'export default () => { let refused = 0; for (let i = 0; i < 150000; i++) { try { setTimeout(() => {}, 1e9); } catch { refused++; } } return refused; }', { timeoutMs: 30_000 });
    await js('logs', "export default () => { for (let i = 0; i < 50000; i++) console.log('y'.repeat(8000)); return 'logged'; }", { timeoutMs: 30_000 });
    const sleeping = await http.post('/v1/functions/sleeper/invoke?async=true').set(svc).send({}).expect(202);
    await waitForRun(stack, sleeping.body.runId, ['running']);
    await expect.poll(() => pool.hostPids().length).toBe(1); // hosts start on demand
    const [host] = pool.hostPids();
    expect((await invoke('timers').expect(200)).body).toMatchObject({ status: 'succeeded', result: 150000 - SANDBOX_LIMITS.maxTimers });
    const logs = await invoke('logs').expect(200);
    expect(logs.body).toMatchObject({ status: 'succeeded', result: 'logged' });
    expect((await waitForRun(stack, logs.body.runId)).logsTruncated).toBe(true);
    const slept = await waitForRun(stack, sleeping.body.runId);
    expect(slept).toMatchObject({ status: 'succeeded', result: 'slept', attempts: 1 });
    expect(pool.hostPids()).toEqual([host]);
  });

  it('#2: memory outside the V8 heap is refused (memoryMb 8)', async () => {
    await js(
      'offheap',
      `export default () => {
        const tries = {
          wasm: () => new WebAssembly.Memory({ initial: 8192 }),
          wasmShared: () => new WebAssembly.Memory({ initial: 8192, maximum: 8192, shared: true }),
          resizable: () => new ArrayBuffer(8, { maxByteLength: 1 << 30 }).resize(512 << 20),
          growable: () => new SharedArrayBuffer(8, { maxByteLength: 1 << 30 }).grow(512 << 20),
          plain: () => new ArrayBuffer(512 << 20),
        };
        const out = {};
        for (const [k, f] of Object.entries(tries)) { try { f(); out[k] = 'allocated'; } catch (e) { out[k] = e.name; } }
        return out;
      }`,
      { memoryMb: 8 },
    );
    const res = await invoke('offheap').expect(200);
    expect(res.body.status).toBe('succeeded');
    for (const [k, v] of Object.entries(res.body.result as Record<string, string>)) expect(v, k).not.toBe('allocated');
    await stillServes();
  });

  it('#4: ctx.storage.download is capped on the file size before any byte moves; a smaller file downloads', async () => {
    await http.post('/v1/storage/buckets').set(svc).send({ name: 'big' }).expect(201);
    const upload = (key: string, size: number) =>
      http.post('/v1/storage/buckets/big/files').set(svc).field('key', key).attach('file', Buffer.alloc(size, 97), { filename: key, contentType: 'text/plain' }).expect(201);
    const big = (await upload('big.txt', SANDBOX_LIMITS.maxDownloadBytes + 1)).body as { id: string };
    const small = (await upload('small.txt', 1000)).body as { id: string };
    await js(
      'reader',
      `export default async (event, ctx) => {
        try { const f = await ctx.storage.download(event.payload.id); return { length: f.text().length }; }
        catch (e) { return { code: e.code, message: e.message }; }
      }`,
    );
    const refused = await invoke('reader', { id: big.id }).expect(200);
    expect(refused.body.result).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining(String(SANDBOX_LIMITS.maxDownloadBytes)) });
    expect((await invoke('reader', { id: small.id }).expect(200)).body.result).toEqual({ length: 1000 });
  });

  it('#4: fetch with a body over the cap is refused inside the sandbox; a refused address never receives a body', async () => {
    await js(
      'poster',
      `export default async (event) => {
        try { const r = await fetch(event.payload.url, { method: 'POST', body: new Uint8Array(event.payload.size) }); return { status: r.status }; }
        catch (e) { return { code: e.code }; }
      }`,
    );
    seen = [];
    const huge = await invoke('poster', { url: `http://127.0.0.2:${port2}/sink`, size: SANDBOX_LIMITS.maxFetchBodyBytes + 1 }).expect(200);
    expect(huge.body.result).toEqual({ code: 'PAYLOAD_TOO_LARGE' });
    expect(seen).toEqual([]);
    const refused = await invoke('poster', { url: 'http://127.0.0.1:9/', size: 1000 }).expect(200);
    expect(refused.body.result).toEqual({ code: 'ADDRESS_REFUSED' });
    const sent = await invoke('poster', { url: `http://127.0.0.2:${port2}/sink`, size: 1000 }).expect(200);
    expect(sent.body.result).toEqual({ status: 200 });
    expect(seen.map((s) => [s.path, s.headers['content-length']])).toEqual([['/sink', '1000']]);
  });

  it('#14: fetch drops authorization and custom headers on a cross-origin redirect, keeps them on the same origin; refuses IPv6 forms of loopback', async () => {
    await js(
      'redirected',
      `export default async (event) => {
        try {
          const r = await fetch(event.payload.url, { headers: { authorization: 'Bearer s3cret', 'x-api-key': 'k', 'x-custom': 'c', accept: 'text/plain' } });
          return { status: r.status, url: r.url, text: await r.text() };
        } catch (e) { return { code: e.code }; }
      }`,
    );
    seen = [];
    const cross = await invoke('redirected', { url: `http://127.0.0.2:${port2}/cross` }).expect(200);
    expect(cross.body.result).toMatchObject({ status: 200, text: 'third' });
    const landed = seen.find((s) => s.path === '/landed')!;
    expect(landed.headers.authorization).toBeUndefined();
    expect(landed.headers['x-api-key']).toBeUndefined();
    expect(landed.headers['x-custom']).toBeUndefined();
    expect(landed.headers.accept).toBe('text/plain');
    seen = [];
    await invoke('redirected', { url: `http://127.0.0.2:${port2}/same` }).expect(200);
    expect(seen.find((s) => s.path === '/landed')!.headers).toMatchObject({ authorization: 'Bearer s3cret', 'x-custom': 'c' });
    for (const host of ['[::127.0.0.1]', '[::ffff:0:127.0.0.1]', '[::ffff:127.0.0.1]', '[64:ff9b::7f00:1]', '[2002:7f00:1::]', '2130706433']) {
      const res = await invoke('redirected', { url: `http://${host}:${stack.apiUrl.split(':').pop()}/v1/health/live` }).expect(200);
      expect(res.body.result, host).toEqual({ code: 'ADDRESS_REFUSED' });
    }
  });

  it('#7: a result, error or log holding U+0000 or a lone surrogate is stored (as U+FFFD), not re-run', async () => {
    await http
      .post('/v1/collections')
      .set(svc)
      .send({ name: 'once', fields: [{ name: 'n', type: 'number' }], rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' } })
      .expect(201);
    await js(
      'nul',
      `export default async (event, ctx) => {
        await ctx.db.collection('once').create({ n: 1 });
        console.log('log\\u0000line', '\\ud800');
        return { text: 'a\\u0000b', lone: 'x\\udc00y', ['k\\u0000ey']: [1, '\\u0000'] };
      }`,
      { retries: 2 },
    );
    const res = await invoke('nul').expect(200);
    expect(res.body).toMatchObject({ status: 'succeeded', result: { text: 'a\uFFFDb', lone: 'x\uFFFDy', 'k\uFFFDey': [1, '\uFFFD'] } });
    const run = await waitForRun(stack, res.body.runId);
    expect(run).toMatchObject({ status: 'succeeded', attempts: 1, result: { text: 'a\uFFFDb' } });
    expect((run.logs as { message: string }[])[0]!.message).toBe('log\uFFFDline \uFFFD');
    const docs = await http.get('/v1/collections/once/documents').set(svc).expect(200);
    expect(docs.body.items).toHaveLength(1);

    await js('nul-error', "export default () => { throw new Error('bad\\u0000thing \\ud800'); }", { retries: 1, backoffMs: 50 });
    const failed = await http.post('/v1/functions/nul-error/invoke?async=true').set(svc).send({}).expect(202);
    const dead = await waitForRun(stack, failed.body.runId, ['dead']);
    expect(dead).toMatchObject({ status: 'dead', attempts: 2, error: { code: 'FUNCTION_ERROR', message: 'Error: bad\uFFFDthing \uFFFD' } });

    await js('deep', 'export default () => { let a = 1; for (let i = 0; i < 5000; i++) a = [a]; return a; }');
    const deep = await invoke('deep').expect(200);
    expect(deep.body.status).toBe('succeeded');
    expect(await waitForRun(stack, deep.body.runId)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('#19: stack traces a function sees show no host path or Node internal', async () => {
    await js(
      'stacks',
      `export default async () => {
        const stacks = [];
        for (const f of [() => new TextDecoder().decode('x'), () => atob('%'), () => btoa('\\u0100'), () => setTimeout(() => {}, Symbol())]) {
          try { f(); } catch (e) { stacks.push(String(e.stack)); }
        }
        return stacks;
      }`,
    );
    const res = await invoke('stacks').expect(200);
    expect(res.body.result).toHaveLength(4);
    for (const stack of res.body.result as string[]) expect(stack).not.toMatch(/node:|\/work\/|\.ts:|isolated-vm boundary|node_modules/);
  });
});
