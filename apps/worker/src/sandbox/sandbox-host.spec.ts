import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '#libs/config';
import { BridgeError, type SandboxBridge } from './bridge.js';
import { type RunOutcome, SANDBOX_LIMITS } from './protocol.js';
import { SandboxPool } from './sandbox-pool.js';

/**
 * The real sandbox host child process (SandboxPool → host.ts → isolated-vm), with a bridge
 * that records the ctx calls that reach the worker. Each attack runs with the limits a
 * function would have, and the host must still be the same process afterwards: a function
 * can fail itself, never the host (and so never other functions' runs on it).
 */
describe('sandbox host', { timeout: 60_000 }, () => {
  const calls: { method: string; args: unknown[]; body?: Uint8Array }[] = [];
  const bridge = {
    handle: async (method: string, args: unknown[], body: Uint8Array | undefined) => {
      calls.push({ method, args, body });
      if (method === 'fetch.check' && String(args[0]).includes('127.0.0.1')) throw new BridgeError('ADDRESS_REFUSED', 'Refused to fetch 127.0.0.1');
      if (method === 'storage.download') return { file: {}, contentType: 'text/plain', data: new Uint8Array([104, 105]) };
      return { echo: args, bytes: body?.byteLength ?? null };
    },
  } as unknown as SandboxBridge;
  const pool = new SandboxPool({ SANDBOX_HOSTS: 1 } as AppConfig, bridge);
  let n = 0;
  let hostPid: number;

  type Opts = { memoryMb?: number; timeoutMs?: number; logLimitBytes?: number };
  /** Runs `handler` (a JavaScript function expression) as a function's default export. */
  const run = (handler: string, opts: Opts = {}): Promise<RunOutcome> =>
    pool.run({
      runToken: 'test-run-token',
      id: `run-${++n}`,
      codeKey: `code-${n}`,
      code: `module.exports.default = ${handler};`,
      event: { payload: {} },
      env: {},
      timeoutMs: opts.timeoutMs ?? 15_000, // generous: the machine running the tests may be loaded
      memoryMb: opts.memoryMb ?? 128,
      logLimitBytes: opts.logLimitBytes ?? 64 * 1024,
    });
  const result = async (handler: string, opts?: Opts): Promise<unknown> => {
    const out = await run(handler, opts);
    expect(out.status, JSON.stringify(out.error)).toBe('succeeded');
    return out.result;
  };

  /** The host is the one started before the test, and still runs functions. */
  async function hostSurvived(): Promise<void> {
    expect(pool.hostPids()).toEqual([hostPid]);
    expect(await result('() => 6 * 7')).toBe(42);
  }

  beforeAll(async () => {
    pool.onModuleInit();
    await result('() => "a host starts on demand"'); // hosts start with the first run
  });
  beforeEach(() => {
    hostPid = pool.hostPids()[0]!;
    calls.length = 0;
  });
  afterAll(async () => {
    await pool.onApplicationShutdown();
  });

  describe('memory outside the V8 heap is refused or counted (memoryMb 8)', () => {
    const small = { memoryMb: 8 };

    it('has no WebAssembly, by any name or path', async () => {
      const out = await result(
        `() => [typeof WebAssembly, typeof globalThis.WebAssembly, typeof Function('return this')().WebAssembly,
          Reflect.ownKeys(globalThis).filter((k) => /wasm|webassembly/i.test(String(k))).length]`,
        small,
      );
      expect(out).toEqual(['undefined', 'undefined', 'undefined', 0]);
      for (const shared of [false, true]) {
        const mem = await run(`() => new WebAssembly.Memory({ initial: 8192, maximum: 8192, shared: ${shared} }).buffer.byteLength`, small);
        expect(mem).toMatchObject({ status: 'failed', error: { code: 'FUNCTION_ERROR', message: expect.stringMatching(/WebAssembly is not defined/) } });
      }
      await hostSurvived();
    });

    it('refuses resizable ArrayBuffers and growable SharedArrayBuffers, also through constructor chains', async () => {
      const out = await result(
        `() => {
          const attempts = {
            global: () => new ArrayBuffer(8, { maxByteLength: 1 << 30 }),
            bufferConstructor: () => new (new Uint8Array(1).buffer.constructor)(8, { maxByteLength: 1 << 30 }),
            protoConstructor: () => new (Object.getPrototypeOf(new ArrayBuffer(1)).constructor)(8, { maxByteLength: 1 << 30 }),
            reflect: () => Reflect.construct(ArrayBuffer, [8, { maxByteLength: 1 << 30 }]),
            subclass: () => new (class extends ArrayBuffer {})(8, { maxByteLength: 1 << 30 }),
            species: () => new (ArrayBuffer[Symbol.species])(8, { maxByteLength: 1 << 30 }),
            sliceSpecies: () => { const b = new ArrayBuffer(8); b.constructor = undefined; return b.slice(0, 4); },
            transfer: () => new ArrayBuffer(8).transfer(16),
            shared: () => new SharedArrayBuffer(8, { maxByteLength: 1 << 30 }),
          };
          const out = {};
          for (const [name, make] of Object.entries(attempts)) {
            try { const b = make(); out[name] = { resizable: b.resizable === true, growable: b.growable === true, resize: typeof b.resize, grow: typeof b.grow }; }
            catch (e) { out[name] = e.constructor.name; }
          }
          out.resizeMethod = typeof ArrayBuffer.prototype.resize;
          return out;
        }`,
        small,
      );
      const notResizable = { resizable: false, growable: false, resize: 'undefined', grow: 'undefined' };
      expect(out).toEqual({
        global: 'RangeError',
        bufferConstructor: 'RangeError',
        protoConstructor: 'RangeError',
        reflect: 'RangeError',
        subclass: 'RangeError',
        species: 'RangeError',
        sliceSpecies: notResizable,
        transfer: notResizable,
        shared: 'ReferenceError',
        resizeMethod: 'undefined',
      });
      await hostSurvived();
    });

    it('counts plain buffers and typed arrays against memoryMb', async () => {
      for (const alloc of [
        'new ArrayBuffer(512 << 20)',
        'new Uint8Array(512 << 20)',
        'new Float64Array(64 << 20)',
        'new ArrayBuffer(8).transfer(512 << 20)',
        'new DataView(new ArrayBuffer(512 << 20))',
        'Array.from({ length: 64 }, () => new Uint8Array(8 << 20))',
        "new TextEncoder().encode('x'.repeat(64 << 20))",
      ]) {
        const out = await run(`() => { const x = ${alloc}; return 'allocated'; }`, small);
        expect(out.status, alloc).toBe('failed');
        expect(out.error?.code, alloc).toMatch(/FUNCTION_ERROR|MEMORY_LIMIT/);
      }
      await hostSurvived();
    });

    it('no global leads to a resize/grow method or a WebAssembly object (a walk of everything reachable)', async () => {
      const out = await result(
        `() => {
          const seen = new Set(), found = [];
          const visit = (v, path, depth) => {
            if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v) || depth > 4) return;
            seen.add(v);
            for (const key of Reflect.ownKeys(v)) {
              let d; try { d = Object.getOwnPropertyDescriptor(v, key); } catch { continue; }
              const name = path + '.' + String(key);
              if (/^(resize|grow)$/.test(String(key)) || /WebAssembly|SharedArrayBuffer/.test(String(key))) found.push(name);
              if (d && 'value' in d) visit(d.value, name, depth + 1);
            }
            try { visit(Object.getPrototypeOf(v), path + '.__proto__', depth + 1); } catch {}
          };
          visit(globalThis, 'globalThis', 0);
          return found;
        }`,
        small,
      );
      expect(out).toEqual([]);
    });
  });

  describe('what crosses into the host is bounded before it is copied (the host survives)', () => {
    it('150 000 pending timers: refused past the per-run cap', async () => {
      const out = await result(`() => {
        let refused = 0;
        for (let i = 0; i < 150000; i++) { try { setTimeout(() => {}, 1e9); } catch (e) { refused++; } }
        return refused;
      }`, { timeoutMs: 30_000 });
      expect(out).toBe(150000 - SANDBOX_LIMITS.maxTimers);
      await hostSurvived();
    });

    it('timers still fire in order and clearTimeout works', async () => {
      const out = await result(`() => new Promise((resolve) => {
        const seen = [];
        setTimeout(() => seen.push('b'), 20);
        setTimeout(() => seen.push('a'), 5);
        const c = setTimeout(() => seen.push('c'), 10);
        clearTimeout(c);
        setTimeout(() => resolve(seen), 60);
      })`);
      expect(out).toEqual(['a', 'b']);
    });

    it('a cleared timer frees its place: set-and-clear many times over the cap', async () => {
      const out = await result(`async () => {
        for (let i = 0; i < ${SANDBOX_LIMITS.maxTimers * 3}; i++) clearTimeout(setTimeout(() => {}, 1e9));
        return await new Promise((resolve) => setTimeout(() => resolve('fired'), 1));
      }`);
      expect(out).toBe('fired');
    });

    it('50 000 log lines of 8000 characters: stopped at the log limit inside the isolate', async () => {
      const out = await run(`() => { for (let i = 0; i < 50000; i++) console.log('y'.repeat(8000)); return 'done'; }`, { timeoutMs: 20_000 });
      expect(out.status).toBe('succeeded');
      expect(out.logsTruncated).toBe(true);
      expect(JSON.stringify(out.logs).length).toBeLessThan(64 * 1024 + 2 * SANDBOX_LIMITS.maxLogLine);
      await hostSurvived();
    });

    it('the bootstrap leaves nothing of the host on the global object', async () => {
      const out = await result(`() => Object.getOwnPropertyNames(globalThis).filter((k) => k.startsWith('__'))`);
      expect(out).toEqual([]);
    });

    it('log lines are cut at the line limit, whatever the arguments are', async () => {
      const out = await run(`() => {
        console.log('z'.repeat(100000));
        console.log({ big: 'q'.repeat(100000) }, 'tail');
        const loud = { toString() { return 'w'.repeat(100000); } };
        console.error(String(loud));
        String.prototype.slice = function () { return this; }; // a function cannot undo the bounds
        console.log('v'.repeat(100000));
      }`);
      expect(out.status).toBe('succeeded');
      expect(out.logs).toHaveLength(4);
      for (const line of out.logs) expect(line.message.length).toBeLessThanOrEqual(SANDBOX_LIMITS.maxLogLine + 1);
    });

    it.each([
      ["throw new Error('x'.repeat(3e8))", 'an Error with a huge message'],
      ["throw 'x'.repeat(3e8)", 'a huge string'],
      ["throw { message: 'x'.repeat(3e8), stack: 's'.repeat(1e8), name: 'n'.repeat(1e6), code: 'c'.repeat(1e6) }", 'an object with huge fields'],
      ["throw { get message() { throw new Error('no'); } }", 'an object whose getters throw'],
      ["throw new Proxy({}, { get() { throw new Error('trap'); } })", 'a proxy'],
      ['throw Symbol("s")', 'a symbol'],
      ["Object.prototype.toJSON = () => 'x'.repeat(3e8); throw new Error('after toJSON')", 'after Object.prototype.toJSON is replaced'],
    ])('throw %s (%s): bounded error, host alive', async (statement) => {
      const out = await run(`() => { ${statement}; }`, { memoryMb: 1024, timeoutMs: 20_000 });
      expect(out.status).toBe('failed');
      expect(out.error!.message.length).toBeLessThanOrEqual(SANDBOX_LIMITS.maxErrorMessage + 200);
      expect((out.error!.stack ?? '').length).toBeLessThanOrEqual(SANDBOX_LIMITS.maxErrorStack + 1);
      await hostSurvived();
    });

    it.each([
      ["new TextEncoder().encode('x'.repeat(2e8)).length", 2e8],
      ["btoa('x'.repeat(3e7)).length", 4e7],
      ["atob(btoa('xyz'.repeat(1e6))).length", 3e6],
      ["new TextDecoder().decode(new Uint8Array(2e8).fill(97)).length", 2e8],
    ])('%s: encoded inside the isolate, nothing crosses', async (expression, expected) => {
      expect(await result(`() => ${expression}`, { memoryMb: 1024, timeoutMs: 30_000 })).toBe(expected);
      await hostSurvived();
    });

    it('returns a huge result as RESULT_TOO_LARGE, decided inside the isolate', async () => {
      const out = await run(`() => 'x'.repeat(3e8)`, { memoryMb: 1024, timeoutMs: 20_000 });
      expect(out).toMatchObject({ status: 'failed', error: { code: 'RESULT_TOO_LARGE' } });
      const big = await run(`() => 'é'.repeat(600000)`); // under the character bound, over the byte bound
      expect(big).toMatchObject({ status: 'failed', error: { code: 'RESULT_TOO_LARGE' } });
      await hostSurvived();
    });

    it('ctx arguments and bodies are bounded before they cross; a view sends only its own bytes', async () => {
      const out = await result(`async (event, ctx) => {
        const attempt = async (fn) => { try { return await fn(); } catch (e) { return e.code; } };
        const big = new Uint8Array(${SANDBOX_LIMITS.maxUploadBytes} + 1);
        return {
          args: await attempt(() => ctx.db.collection('c').create({ s: 'x'.repeat(${SANDBOX_LIMITS.maxArgsChars}) })),
          upload: await attempt(() => ctx.storage.upload('b', 'k', big)),
          fetchBody: await attempt(() => fetch('https://example.com/', { method: 'POST', body: new Uint8Array(${SANDBOX_LIMITS.maxFetchBodyBytes} + 1) })),
          view: await attempt(() => ctx.storage.upload('b', 'k', big.subarray(0, 3))),
          faked: await attempt(() => { const v = new Uint8Array(big.buffer, 0, 2); Object.defineProperty(v, 'byteLength', { value: 1 }); return ctx.storage.upload('b', 'k', v); }),
          text: await attempt(() => ctx.storage.upload('b', 'k', 'héllo')),
        };
      }`);
      expect(out).toEqual({
        args: 'PAYLOAD_TOO_LARGE',
        upload: 'PAYLOAD_TOO_LARGE',
        fetchBody: 'PAYLOAD_TOO_LARGE',
        view: { echo: ['b', 'k', {}], bytes: 3 },
        faked: { echo: ['b', 'k', {}], bytes: 2 },
        text: { echo: ['b', 'k', {}], bytes: 6 },
      });
      expect(calls.map((c) => c.method)).toEqual(['storage.upload', 'storage.upload', 'storage.upload']);
    });

    it('fetch with a body asks for the address check first; a refused address never receives the body', async () => {
      const out = await result(`async () => {
        try { await fetch('http://127.0.0.1:9/', { method: 'POST', body: new Uint8Array(1000) }); return 'sent'; }
        catch (e) { return e.code; }
      }`);
      expect(out).toBe('ADDRESS_REFUSED');
      expect(calls.map((c) => c.method)).toEqual(['fetch.check']);
      expect(calls[0]!.body).toBeUndefined();
    });

    it('bounds ctx calls in flight per run', async () => {
      const out = await result(`async (event, ctx) => {
        const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => ctx.db.collection('c').get(String(i))));
        return results.filter((r) => r.status === 'rejected' && r.reason.code === 'TOO_MANY_CALLS').length;
      }`);
      expect(out).toBe(40 - SANDBOX_LIMITS.maxPendingCalls);
    });

    it('ctx.storage.download data arrives as bytes with text()', async () => {
      expect(await result(`async (event, ctx) => (await ctx.storage.download('f')).text()`)).toBe('hi');
    });
  });

  describe('stack traces show the function, never the host', () => {
    it('errors of every global the sandbox provides carry no host path or Node internal', async () => {
      const out = (await result(`async (event, ctx) => {
        const stacks = [];
        const grab = async (fn) => { try { await fn(); } catch (e) { stacks.push(String(e && e.stack)); } };
        await grab(() => new TextDecoder().decode('not bytes'));
        await grab(() => new TextEncoder().encode(Symbol()));
        await grab(() => atob('%%%'));
        await grab(() => btoa('\\u0100'));
        await grab(() => atob(Symbol()));
        await grab(() => crypto.randomUUID.call(null, Symbol()));
        await grab(() => require('fs'));
        await grab(() => fetch(Symbol()));
        await grab(() => ctx.db.collection('c').create({ f: () => 1, n: 10n }));
        await grab(() => ctx.storage.upload('b', 'k', 42));
        await grab(() => new Response({}).text());
        await grab(() => setTimeout(Symbol()));
        await grab(() => { throw new Error('own'); });
        await grab(async () => { await new Promise((r) => setTimeout(r, 1)); throw new Error('after a timer'); });
        return stacks;
      }`)) as string[];
      expect(out.length).toBeGreaterThanOrEqual(10);
      for (const stack of out) {
        expect(stack).not.toMatch(/node:|\/work\/|\/tmp\/|\.ts:|host\.|isolated-vm boundary|node_modules/);
      }
    });

    it('a thrown error is recorded with the frames of the function only', async () => {
      const out = await run(`() => { function inner() { throw new Error('deep'); } inner(); }`);
      expect(out.error).toMatchObject({ code: 'FUNCTION_ERROR', message: 'Error: deep' });
      expect(out.error!.stack).toMatch(/at inner \(file:\/\/\/function\.js:2:/);
      expect(out.error!.stack).not.toMatch(/node:|\/work\/|bootstrap/);
    });
  });
});
