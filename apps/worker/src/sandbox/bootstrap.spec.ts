import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { buildSync } from 'esbuild';
import { Linter } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { bootstrapSource, sandboxBootstrap } from './bootstrap.js';
import { SANDBOX_LIMITS } from './protocol.js';

/**
 * The sandbox bootstrap (bootstrap.ts) runs inside every isolate as source text: host.ts
 * injects `(sandboxBootstrap)(limits)`, so the function must not reach anything of its module
 * or of Node. Checked here on the two forms the host really loads (tsc's build output, and
 * Node's type stripping in development), then exercised in a bare V8 context.
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../../..');
const source = readFileSync(join(here, 'bootstrap.ts'), 'utf8');

/** The JavaScript tsc emits for bootstrap.ts with the project's build options. */
function tscOutput(): string {
  const config = ts.readConfigFile(join(root, 'tsconfig.build.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return ts.transpileModule(source, { compilerOptions: { ...options, sourceMap: false, inlineSourceMap: false }, fileName: 'bootstrap.ts' }).outputText;
}

/** The text of `function sandboxBootstrap(...) {...}` in a module's JavaScript. */
function functionText(moduleJs: string): string {
  const file = ts.createSourceFile('bootstrap.js', moduleJs, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const fn = file.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === 'sandboxBootstrap');
  if (!fn) throw new Error('sandboxBootstrap not found in the module');
  return moduleJs.slice(fn.getStart(file), fn.end).replace(/^export\s+/, '');
}

/** The globals of a bare V8 context (what an isolate's context has before the bootstrap runs). */
const bareGlobals = runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[];

/** Identifiers the script uses that it neither declares nor finds among the bare context's globals. */
function freeNames(script: string): string[] {
  const linter = new Linter();
  const messages = linter.verify(script, {
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'script',
      globals: Object.fromEntries(bareGlobals.map((name) => [name, 'readonly' as const])),
    },
    rules: { 'no-undef': 'error' },
  });
  const fatal = messages.find((m) => m.fatal);
  if (fatal) throw new Error(`not valid JavaScript: ${fatal.message} (line ${fatal.line})`);
  const undef = messages.filter((m) => m.ruleId === 'no-undef'); // (the file's own eslint comments name rules unknown here)
  return [...new Set(undef.map((m) => /'([^']+)'/.exec(m.message)?.[1] ?? m.message))];
}

interface Bridges {
  calls: { method: string; args: unknown; body: unknown }[];
  logs: [string, string][];
  sleeps: unknown[][];
  cleared: unknown[];
}

/** The script host.ts compiles, made from a given compiled form of the module. */
const scriptOf = (moduleJs: string) => `'use strict';\n(${functionText(moduleJs)})(${JSON.stringify(SANDBOX_LIMITS)});\n`;

/** host.ts bundled with esbuild as the CLI bundles it (packages/cli/build.mjs: dist/host.js). */
function cliBundle(): string {
  const out = buildSync({ entryPoints: [join(here, 'host.ts')], bundle: true, write: false, platform: 'node', format: 'esm', target: 'node24', logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}

/** The compiled forms the host runs: the build (tsc), development (Node's type stripping) and the CLI's bundle (esbuild). */
const forms: [string, string][] = [
  ['tsc build', scriptOf(tscOutput())],
  ['type stripping', scriptOf(stripTypeScriptTypes(source))],
  ['the CLI bundle', scriptOf(cliBundle())],
];

/** A bare context with fake host bridges, the bootstrap run in it. */
function bootedContext(script: string): { global: Record<string, unknown>; bridges: Bridges } {
  const bridges: Bridges = { calls: [], logs: [], sleeps: [], cleared: [] };
  const global: Record<string, unknown> = {
    __hostCall: {
      apply: async (_self: undefined, [method, args, body]: [string, string, unknown]) => {
        bridges.calls.push({ method, args: JSON.parse(args) as unknown, body });
        return method === 'db.get' ? { ok: false, error: { code: 'DOCUMENT_NOT_FOUND', message: 'no such document', status: 404 } } : { ok: true, value: { echo: method } };
      },
    },
    __hostLog: (level: string, line: string) => bridges.logs.push([level, line]),
    __hostSleep: { apply: async (_self: undefined, args: unknown[]) => (bridges.sleeps.push(args), true) },
    __hostClear: (id: unknown) => bridges.cleared.push(id),
    __hostUuid: () => '00000000-0000-4000-8000-000000000000',
  };
  runInNewContext(script, global);
  return { global, bridges };
}

/** Runs `handler` (JavaScript source of a function expression) through the context's __invoke. */
async function invoke(global: Record<string, unknown>, handler: string, logLimit = 64 * 1024): Promise<string> {
  const factory = runInNewContext(`(() => ({ default: ${handler} }))`, global) as () => unknown;
  const call = global.__invoke as (factory: () => unknown, event: unknown, env: object, logLimit: number) => Promise<string>;
  return call(factory, runInNewContext('({ payload: { n: 2 } })', global), runInNewContext('({ REGION: "eu" })', global) as object, logLimit);
}

describe('sandbox bootstrap', () => {
  it('uses nothing but a bare context (tsc output, Node type stripping and the CLI bundle alike)', () => {
    expect(bareGlobals).toContain('Reflect'); // the context is a real one
    for (const [name, script] of forms) expect(freeNames(script), name).toEqual([]);
  });

  it('is injected as a strict script with the limits as its argument', () => {
    const script = bootstrapSource(SANDBOX_LIMITS);
    expect(script.startsWith("'use strict';\n(function sandboxBootstrap(")).toBe(true);
    expect(script.endsWith(`)(${JSON.stringify(SANDBOX_LIMITS)});\n`)).toBe(true);
  });

  it('the check catches a reference to module scope', () => {
    const moduleJs = `const secret = 1;\nexport function sandboxBootstrap(L) { globalThis.leak = secret + L.maxTimers; }\n`;
    expect(freeNames(`(${functionText(moduleJs)})`)).toEqual(['secret']);
  });

  it('has no imports to load (the host may read nothing else)', () => {
    expect(tscOutput()).not.toMatch(/^\s*import\s/m);
    expect(sandboxBootstrap.length).toBe(1);
  });

  describe.each(forms)('as built by %s', (_name, script) => {
    it('removes the host bridges and what allocates outside the V8 heap', () => {
      const { global } = bootedContext(script);
      const probe = (expr: string): unknown => runInNewContext(expr, global);
      for (const name of ['__hostCall', '__hostLog', '__hostSleep', '__hostClear', '__hostUuid', 'WebAssembly', 'SharedArrayBuffer']) {
        expect(probe(`typeof ${name}`), name).toBe('undefined');
      }
      expect(probe('typeof ArrayBuffer.prototype.resize')).toBe('undefined');
      expect(() => probe('new ArrayBuffer(8, { maxByteLength: 16 })')).toThrow(/Resizable and shared ArrayBuffers/);
      expect(() => probe('ArrayBuffer(8)')).toThrow(/requires 'new'/);
      expect(probe('new ArrayBuffer(8).byteLength')).toBe(8);
      expect(probe('new Uint8Array(4).buffer.constructor === ArrayBuffer && ArrayBuffer.name')).toBe('ArrayBuffer');
      expect(probe('Object.keys(globalThis)')).toEqual([]); // the bootstrap's globals are not enumerable
    // Names as a library may check them (compilers rename locals; the bootstrap sets them).
    const names = ['fetch', 'Headers', 'Response', 'setTimeout', 'clearTimeout', 'require', 'TextEncoder', 'TextDecoder', 'atob', 'btoa', 'ArrayBuffer'];
    expect(probe(`[${names.join(', ')}].map((f) => f.name)`)).toEqual(names);
    expect(probe("Object.getOwnPropertyDescriptor(ArrayBuffer, 'name')")).toEqual({ value: 'ArrayBuffer', writable: false, enumerable: false, configurable: true });
      expect(probe('crypto.randomUUID()')).toBe('00000000-0000-4000-8000-000000000000');
      expect(() => probe("require('fs')")).toThrow("Cannot import 'fs': functions have no Node modules");
    });

    it('encodes UTF-8 and base64 inside the context', () => {
      const { global } = bootedContext(script);
      const probe = (expr: string): unknown => runInNewContext(expr, global);
      expect(probe("Array.from(new TextEncoder().encode('aé€😀'))")).toEqual([...Buffer.from('aé€😀')]);
      expect(probe("Array.from(new TextEncoder().encode('\\ud800x'))")).toEqual([0xef, 0xbf, 0xbd, 0x78]); // a lone surrogate
      expect(probe('new TextDecoder().decode(new Uint8Array([0x61, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0xff]))')).toBe('aé😀\ufffd');
      expect(probe("btoa('hello!?')")).toBe(Buffer.from('hello!?').toString('base64'));
      expect(probe("atob(' aGVs bG8= ')")).toBe('hello');
      expect(() => probe("btoa('€')")).toThrow(/outside of Latin1/);
      expect(() => probe("atob('a')")).toThrow(/not valid base64/);
    });

    it('runs the handler once through __invoke and packs its answer', async () => {
      const { global } = bootedContext(script);
      expect(await invoke(global, '(event, ctx) => ({ n: event.payload.n * 21, region: ctx.env.REGION })')).toBe('R{"n":42,"region":"eu"}');
      expect(JSON.parse((await invoke(global, '() => 1')).slice(1))).toMatchObject({ code: 'SANDBOX_ERROR', bootstrap: true }); // once per context
      expect(await invoke(bootedContext(script).global, '() => undefined')).toBe('U');
      expect(JSON.parse((await invoke(bootedContext(script).global, '42')).slice(1))).toMatchObject({ code: 'NO_HANDLER', bootstrap: true });
      expect(JSON.parse((await invoke(bootedContext(script).global, '() => ({ big: 1n })')).slice(1))).toMatchObject({ code: 'RESULT_NOT_JSON' });
      const thrown = JSON.parse((await invoke(bootedContext(script).global, "() => { const e = new TypeError('bad'); e.code = 'MINE'; throw e; }")).slice(1)) as Record<string, unknown>;
      expect(thrown).toMatchObject({ name: 'TypeError', message: 'bad', code: 'MINE', bootstrap: false });
    });

    it('sends ctx calls as bounded JSON and turns refusals into errors with a code', async () => {
      const { global, bridges } = bootedContext(script);
      const out = await invoke(
        global,
        `async (event, ctx) => {
          const created = await ctx.db.collection('posts').create({ title: 't' });
          const missing = await ctx.db.collection('posts').get('p1').catch((e) => ({ code: e.code, status: e.status, message: e.message }));
          await ctx.storage.upload('b', 'k', new Uint8Array([1, 2, 3, 4]).subarray(1, 3));
          const tooBig = await ctx.email.send({ text: 'x'.repeat(${SANDBOX_LIMITS.maxArgsChars}) }).catch((e) => e.code);
          return { created, missing, tooBig };
        }`,
      );
      expect(JSON.parse(out.slice(1))).toEqual({
        created: { echo: 'db.create' },
        missing: { code: 'DOCUMENT_NOT_FOUND', status: 404, message: 'no such document' },
        tooBig: 'PAYLOAD_TOO_LARGE',
      });
      expect(bridges.calls.map((c) => [c.method, c.args])).toEqual([
        ['db.create', ['posts', { title: 't' }]],
        ['db.get', ['posts', 'p1']],
        ['storage.upload', ['b', 'k', {}]],
      ]);
      const body = bridges.calls[2]!.body as ArrayBuffer;
      expect([...new Uint8Array(body)]).toEqual([2, 3]); // exactly the bytes of the view, not its buffer
    });

    it('keeps logs within the run budget and counts timers', async () => {
      const { global, bridges } = bootedContext(script);
      await invoke(global, "() => { console.log('a', { b: 1 }); console.warn('x'.repeat(100)); console.error('dropped'); setTimeout(() => {}, 5); }", 60);
      expect(bridges.logs[0]).toEqual(['log', 'a {"b":1}']);
      expect(bridges.logs.slice(1)).toEqual([['cut', '']]);
      expect(bridges.sleeps).toEqual([[5, 1]]);
      runInNewContext('clearTimeout(1)', global);
      expect(bridges.cleared).toEqual([]); // already due (the fake host answered at once)
    });
  });
});
