import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxPool } from '../../apps/worker/src/sandbox/sandbox-pool.js';
import { SERVICE_KEY } from '../support/config.js';
import { deploy, type Stack, startStack, svc, waitForRun } from './support.js';

/**
 * The sandbox's limits, each followed by a normal run to show the worker still serves.
 * Sync invokes make one attempt, so each outcome is the run's final status.
 */
describe('functions: sandbox limits', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;

  const invoke = (name: string, body: unknown = {}) => http.post(`/v1/functions/${name}/invoke`).set(svc).send(body as object);

  /** Deploys `source` (JavaScript) under `name` with the given limits. */
  const js = (name: string, source: string, extra: Record<string, unknown> = {}) =>
    deploy(stack, name, { source, language: 'js', triggers: [{ type: 'http' }], ...extra });

  async function stillServes(): Promise<void> {
    const res = await invoke('ok', { n: 21 }).expect(200);
    expect(res.body).toMatchObject({ status: 'succeeded', result: 42 });
  }

  beforeAll(async () => {
    stack = await startStack({ FUNCTIONS_LOG_LIMIT_BYTES: '2048' });
    http = request(stack.api.getHttpServer());
    await js('ok', 'export default (event) => event.payload.n * 2');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('kills an infinite loop at its timeout', async () => {
    await js('spin', 'export default () => { for (;;) {} }', { timeoutMs: 300 });
    const res = await invoke('spin').expect(200);
    expect(res.body.status).toBe('timed_out');
    expect(res.body.error).toMatchObject({ code: 'TIMEOUT' });
    await stillServes();
  });

  it('kills an async run that never settles, and a loop after an await', async () => {
    await js('hang', 'export default () => new Promise(() => {})', { timeoutMs: 300 });
    expect((await invoke('hang').expect(200)).body.status).toBe('timed_out');
    await js('late-spin', 'export default async () => { await null; await new Promise((r) => setTimeout(r, 10)); for (;;) {} }', {
      timeoutMs: 300,
    });
    expect((await invoke('late-spin').expect(200)).body.status).toBe('timed_out');
    await stillServes();
  });

  it('stops a memory hog at its memory cap', async () => {
    await js('hog', 'export default () => { const a = []; for (;;) a.push(new Array(100000).fill(Math.random())); }', {
      memoryMb: 16,
      timeoutMs: 10_000,
    });
    const res = await invoke('hog').expect(200);
    expect(res.body.status).toBe('failed');
    expect(res.body.error.code).toMatch(/MEMORY_LIMIT|SANDBOX_CRASHED/);
    await stillServes();
  });

  it('shows no platform secret: no process, and an empty environment', async () => {
    await js(
      'env',
      `export default (event, ctx) => ({
        process: typeof process,
        env: typeof process === 'undefined' ? null : process.env,
        globals: Object.getOwnPropertyNames(globalThis).filter((k) => /process|require|Buffer|module/.test(k)),
        ctxEnv: ctx.env,
      })`,
    );
    const res = await invoke('env').expect(200);
    expect(res.body.result).toMatchObject({ process: 'undefined', env: null, ctxEnv: {} });
    const text = JSON.stringify(res.body);
    for (const secret of [SERVICE_KEY, stack.config.JWT_SECRET, stack.databaseUrl]) expect(text).not.toContain(secret);
    await stillServes();
  });

  it("cannot load Node modules: require('child_process') and import 'node:net' fail", async () => {
    await js('cp', "export default () => require('child_process').execSync('id').toString()");
    const cp = await invoke('cp').expect(200);
    expect(cp.body).toMatchObject({ status: 'failed', error: { code: 'FUNCTION_ERROR' } });
    expect(cp.body.error.message).toContain("Cannot import 'child_process'");

    await js('net', "import net from 'node:net';\nexport default () => typeof net.connect");
    const net = await invoke('net').expect(200);
    expect(net.body.status).toBe('failed');
    expect(net.body.error.message).toContain("Cannot import 'node:net'");

    await js('dyn', "export default async () => { const http = await import('node:http'); return typeof http.request; }");
    const dyn = await invoke('dyn').expect(200);
    expect(dyn.body.status).toBe('failed');
    expect(dyn.body.error.message).toContain("Cannot import 'node:http'");
    await stillServes();
  });

  it('refuses fetch to loopback, link-local (cloud metadata) and private addresses, through ctx.fetch and the global fetch', async () => {
    await js(
      'fetcher',
      `export default async (event, ctx) => {
        const f = event.payload.global ? fetch : ctx.fetch;
        try { const r = await f(event.payload.url); return { status: r.status }; }
        catch (e) { return { refused: e.message, code: e.code ?? null }; }
      }`,
    );
    for (const url of [
      `${stack.apiUrl}/v1/health/live`,
      'http://127.0.0.1:1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://[::1]:80/',
      'http://localhost/',
    ]) {
      for (const global of [false, true]) {
        const res = await invoke('fetcher', { url, global }).expect(200);
        expect(res.body.status, url).toBe('succeeded');
        expect(res.body.result.refused, `${url} global=${global}`).toMatch(/Refused to fetch|ctx call fetch failed/);
      }
    }
    await stillServes();
  });

  it('caps the logs of a run', async () => {
    await js('chatty', 'export default () => { for (let i = 0; i < 500; i++) console.log("line " + i + " " + "x".repeat(40)); return "done"; }');
    const res = await invoke('chatty').expect(200);
    expect(res.body.status).toBe('succeeded');
    const run = await waitForRun(stack, res.body.runId);
    expect(run.logsTruncated).toBe(true);
    const logs = run.logs as { message: string }[];
    expect(logs.length).toBeLessThan(100);
    expect(logs.at(-1)!.message).toMatch(/log limit/);
  });

  it('replaces a sandbox host that dies, fails its run, and retries it', async () => {
    const pool = stack.workers[0]!.get(SandboxPool);
    await js('slow', 'export default async () => { await new Promise((r) => setTimeout(r, 1500)); return "slept"; }', {
      retries: 2,
      backoffMs: 50,
    });
    const started = await http.post('/v1/functions/slow/invoke?async=true').set(svc).send({}).expect(202);
    await waitForRun(stack, started.body.runId, ['running']);
    await expect.poll(() => pool.hostPids().length).toBe(1); // hosts start on demand
    const [victim] = pool.hostPids();
    expect(victim).toBeTypeOf('number');
    process.kill(victim!, 'SIGKILL');
    const run = await waitForRun(stack, started.body.runId, ['succeeded', 'dead']);
    expect(run).toMatchObject({ status: 'succeeded', result: 'slept' });
    expect(run.attempts).toBe(2);
    await expect.poll(() => pool.hostPids().length, { timeout: 10_000 }).toBe(1);
    expect(pool.hostPids()).not.toContain(victim);
    await stillServes();
  });
});
