import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '#libs/config';
import type { SandboxBridge } from './bridge.js';
import type { RunOutcome } from './protocol.js';
import { SandboxPool } from './sandbox-pool.js';

/**
 * The warm pool of the real sandbox hosts (SandboxPool → host.ts → isolated-vm): an isolate
 * per function version kept between runs, a fresh context per run, idle timeouts, the LRU
 * bound, and hosts that start on demand and stop when idle. No timing is asserted beyond
 * "eventually" (the machine running the tests may be loaded).
 */
describe('sandbox warm pool', { timeout: 60_000 }, () => {
  const bridge = { handle: async () => null } as unknown as SandboxBridge;
  let pool: SandboxPool | undefined;
  let n = 0;

  function start(config: Partial<AppConfig> = {}): SandboxPool {
    pool = new SandboxPool({ SANDBOX_HOSTS: 1, SANDBOX_HOST_IDLE_MS: 60_000, SANDBOX_ISOLATE_IDLE_MS: 60_000, SANDBOX_WARM_MEMORY_MB: 256, SANDBOX_WARM_ISOLATES: 200, ...config } as AppConfig, bridge);
    pool.onModuleInit();
    return pool;
  }
  afterEach(async () => {
    await pool?.onApplicationShutdown();
    pool = undefined;
  });

  /** Runs `handler` (a JavaScript function expression) as version `version`'s default export. */
  const run = (p: SandboxPool, version: string, handler: string, opts: { memoryMb?: number; timeoutMs?: number; payload?: unknown } = {}): Promise<RunOutcome> =>
    p.run({
      runToken: 'test-run-token',
      id: `run-${++n}:1`,
      codeKey: version,
      code: `let calls = 0;\nmodule.exports.default = ${handler};`,
      event: { payload: opts.payload ?? {} },
      env: {},
      timeoutMs: opts.timeoutMs ?? 15_000,
      memoryMb: opts.memoryMb ?? 64,
      logLimitBytes: 64 * 1024,
    });

  it('keeps an isolate per version warm, with nothing of one run left in the next', async () => {
    const p = start();
    const handler = `() => {
      const seen = { calls: ++calls, global: globalThis.leftover ?? null, proto: [].polluted ?? null, json: JSON.leaked ?? null, timeout: typeof setTimeout.marked };
      globalThis.leftover = 'run state';
      Array.prototype.polluted = 'yes';
      JSON.leaked = true;
      setTimeout.marked = 1;
      Object.freeze(Object.prototype);
      return seen;
    }`;
    const first = await run(p, 'v-fresh', handler);
    const second = await run(p, 'v-fresh', handler);
    const fresh = { calls: 1, global: null, proto: null, json: null, timeout: 'undefined' };
    expect(first).toMatchObject({ status: 'succeeded', result: fresh, cold: true });
    expect(second).toMatchObject({ status: 'succeeded', result: fresh, cold: false });
    expect(await p.stats()).toMatchObject({ hosts: 1, isolates: 1, versions: 1 });
    // Metering of each run.
    expect(second.cpuMs).toBeGreaterThanOrEqual(0);
    expect(second.memoryBytes).toBeGreaterThan(0);
  });

  it('never shares an isolate between two versions', async () => {
    const p = start();
    expect((await run(p, 'v-a', '() => (globalThis.mark = 1)')).cold).toBe(true);
    expect((await run(p, 'v-b', '() => typeof globalThis.mark')).cold).toBe(true);
    expect((await run(p, 'v-a', '() => 1')).cold).toBe(false);
    expect(await p.stats()).toMatchObject({ isolates: 2, versions: 2 });
  });

  it('discards an isolate that times out or hits its memory cap; only that run fails', async () => {
    const p = start();
    await run(p, 'v-spin', '(e) => { if (e.payload.spin) for (;;) {} return "ok"; }');
    const other = run(p, 'v-other', 'async () => { await new Promise((r) => setTimeout(r, 300)); return "other"; }');
    const spun = await run(p, 'v-spin', '(e) => { if (e.payload.spin) for (;;) {} return "ok"; }', { payload: { spin: true }, timeoutMs: 300 });
    expect(spun).toMatchObject({ status: 'timed_out', error: { code: 'TIMEOUT' } });
    expect(await other).toMatchObject({ status: 'succeeded', result: 'other' });
    expect(await run(p, 'v-spin', '(e) => "ok"')).toMatchObject({ status: 'succeeded', result: 'ok', cold: true });

    const hog = '(e) => { if (e.payload.hog) { const a = []; for (;;) a.push(new Array(1e5).fill(1)); } return "fine"; }';
    await run(p, 'v-hog', hog, { memoryMb: 16 });
    expect(await run(p, 'v-hog', hog, { memoryMb: 16, payload: { hog: true } })).toMatchObject({ status: 'failed', error: { code: 'MEMORY_LIMIT' } });
    expect(await run(p, 'v-hog', hog, { memoryMb: 16 })).toMatchObject({ status: 'succeeded', result: 'fine', cold: true });
  });

  it('keeps the isolate after the function throws, and drops one whose run left timers behind', async () => {
    const p = start();
    await run(p, 'v-throw', '() => { throw new Error("x"); }');
    expect(await run(p, 'v-throw', '() => { throw new Error("x"); }')).toMatchObject({ status: 'failed', cold: false });
    await run(p, 'v-timer', '() => { setTimeout(() => {}, 60000); return 1; }');
    expect((await run(p, 'v-timer', '() => 1')).cold).toBe(true);
  });

  it('bounds the warm isolates (LRU): the least recently used version goes first', async () => {
    const p = start({ SANDBOX_WARM_ISOLATES: 3 });
    for (const v of ['l1', 'l2', 'l3', 'l4']) await run(p, v, '() => 1');
    expect(await p.stats()).toMatchObject({ isolates: 3 });
    expect((await run(p, 'l4', '() => 1')).cold).toBe(false);
    expect((await run(p, 'l1', '() => 1')).cold).toBe(true); // l1 was the least recently used
  });

  it('starts hosts on demand up to SANDBOX_HOSTS, drops idle isolates, and stops idle hosts', async () => {
    const p = start({ SANDBOX_HOSTS: 2, SANDBOX_ISOLATE_IDLE_MS: 300, SANDBOX_HOST_IDLE_MS: 1500 });
    expect(p.hostPids()).toEqual([]);
    const slow = 'async () => { await new Promise((r) => setTimeout(r, 500)); return 1; }';
    const outcomes = await Promise.all([run(p, 's1', slow), run(p, 's2', slow), run(p, 's3', slow)]);
    expect(outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(p.hostPids()).toHaveLength(2);
    await expect.poll(async () => (await p.stats()).isolates, { timeout: 10_000, interval: 100 }).toBe(0);
    await expect.poll(() => p.hostPids().length, { timeout: 15_000, interval: 100 }).toBe(0);
    // From zero again.
    expect(await run(p, 's1', '() => "back"')).toMatchObject({ status: 'succeeded', result: 'back', cold: true });
    expect(p.hostPids()).toHaveLength(1);
  });
});
