/**
 * A sandbox host: a child process of the worker that runs functions, each run in a new V8
 * isolate (isolated-vm) with a memory limit and a timeout, and no Node API inside.
 *
 * Started by SandboxPool with the Node permission model (no fs writes, no child processes,
 * no workers, reads only of this file and isolated-vm), a clean environment and a heap cap.
 * Everything `ctx` offers (db, storage, email, fetch) is asked of the worker over IPC: this
 * process holds no credentials and opens no connections.
 *
 * Self-contained on purpose (only `import type` from the project): in development Node runs
 * this file directly with its built-in TypeScript type stripping.
 */
import type IsolatedVM from 'isolated-vm';
import type { RunError, RunLogLine } from '#libs/functions';
import type { CallReply, FromHost, RunOutcome, RunRequest, ToHost } from './protocol.js';

type Ivm = typeof IsolatedVM;
type Isolate = IsolatedVM.Isolate;
type Context = IsolatedVM.Context;
type Reference = IsolatedVM.Reference;

const ivmPath = process.argv[2];
if (!ivmPath || !process.send) {
  process.stderr.write('host.ts is started by the worker (SandboxPool), with the path of isolated-vm\n');
  process.exit(2);
}
const ivm = ((await import(ivmPath)) as { default: Ivm }).default;

const MAX_LINE = 8 * 1024;
const MAX_RESULT_BYTES = 1024 * 1024;
const MAX_CALLS_PER_RUN = 1000;
const CODE_CACHE_SIZE = 200;

/**
 * Runs inside every isolate before the function: builds `ctx`, the guarded global `fetch`,
 * `console`, timers and a `require` that refuses every module. It captures the host
 * bridges (set as globals just before) and removes them from the global object.
 */
const BOOTSTRAP = String.raw`
'use strict';
(() => {
  const g = globalThis;
  const hostCall = g.__hostCall, hostLog = g.__hostLog, hostSleep = g.__hostSleep, util = g.__hostUtil;
  for (const k of ['__hostCall', '__hostLog', '__hostSleep', '__hostUtil']) delete g[k];
  const MAX_LINE = ${MAX_LINE};

  const show = (v) => {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return v.stack || String(v);
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch { return String(v); }
  };
  const log = (level, args) => {
    let line = args.map(show).join(' ');
    if (line.length > MAX_LINE) line = line.slice(0, MAX_LINE) + '…';
    hostLog(level, line);
  };

  async function call(method, args) {
    let r;
    try {
      r = await hostCall.apply(undefined, [method, args], { arguments: { copy: true }, result: { promise: true, copy: true } });
    } catch (e) {
      throw new Error('ctx call ' + method + ' failed: ' + (e && e.message ? e.message : String(e)));
    }
    if (r && r.ok) return r.value;
    const err = new Error(r && r.error ? r.error.message : 'ctx call ' + method + ' failed');
    if (r && r.error) { err.code = r.error.code; if (r.error.status) err.status = r.error.status; }
    throw err;
  }

  const encodeUtf8 = (s) => util.encode(String(s));
  const decodeUtf8 = (b) => util.decode(b);

  class Headers {
    #m = new Map();
    constructor(init) {
      if (init instanceof Headers) init = [...init.entries()];
      if (Array.isArray(init)) for (const [k, v] of init) this.append(k, v);
      else if (init && typeof init === 'object') for (const k of Object.keys(init)) this.append(k, init[k]);
    }
    append(k, v) { k = String(k).toLowerCase(); const old = this.#m.get(k); this.#m.set(k, old === undefined ? String(v) : old + ', ' + v); }
    set(k, v) { this.#m.set(String(k).toLowerCase(), String(v)); }
    get(k) { const v = this.#m.get(String(k).toLowerCase()); return v === undefined ? null : v; }
    has(k) { return this.#m.has(String(k).toLowerCase()); }
    delete(k) { this.#m.delete(String(k).toLowerCase()); }
    entries() { return this.#m.entries(); }
    keys() { return this.#m.keys(); }
    values() { return this.#m.values(); }
    forEach(fn) { for (const [k, v] of this.#m) fn(v, k, this); }
    [Symbol.iterator]() { return this.#m.entries(); }
    toJSON() { return Object.fromEntries(this.#m); }
  }

  class Response {
    #bytes;
    constructor(r) {
      this.status = r.status; this.statusText = r.statusText; this.ok = r.status >= 200 && r.status < 300;
      this.url = r.url; this.redirected = r.redirected; this.headers = new Headers(r.headers); this.#bytes = r.body;
      this.bodyUsed = false;
    }
    async arrayBuffer() { this.bodyUsed = true; return this.#bytes.buffer.slice(this.#bytes.byteOffset, this.#bytes.byteOffset + this.#bytes.byteLength); }
    async bytes() { this.bodyUsed = true; return new Uint8Array(this.#bytes); }
    async text() { this.bodyUsed = true; return decodeUtf8(this.#bytes); }
    async json() { return JSON.parse(await this.text()); }
  }

  /** The only way out to the network: the worker refuses loopback, private and link-local targets. */
  async function fetch(input, init = {}) {
    const url = typeof input === 'string' ? input : input && typeof input.url === 'string' ? input.url : String(input);
    let body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string') {
      if (body instanceof ArrayBuffer) body = new Uint8Array(body);
      else if (!(body instanceof Uint8Array)) body = JSON.stringify(body);
    }
    const headers = init.headers ? Object.fromEntries(new Headers(init.headers).entries()) : {};
    const r = await call('fetch', [url, { method: init.method ? String(init.method).toUpperCase() : 'GET', headers, body: body ?? undefined, redirect: init.redirect || 'follow' }]);
    return new Response(r);
  }

  const timers = new Map();
  let nextTimer = 1;
  const setTimeout = (fn, ms, ...args) => {
    const id = nextTimer++;
    timers.set(id, true);
    hostSleep.apply(undefined, [Math.max(0, Number(ms) || 0)], { result: { promise: true } }).then(() => {
      if (timers.delete(id) && typeof fn === 'function') fn(...args);
    }, () => {});
    return id;
  };
  const clearTimeout = (id) => { timers.delete(id); };

  const console = {
    log: (...a) => log('log', a), info: (...a) => log('info', a), warn: (...a) => log('warn', a),
    error: (...a) => log('error', a), debug: (...a) => log('debug', a),
  };

  const require = (name) => {
    throw new Error("Cannot import '" + name + "': functions have no Node modules (use ctx.db, ctx.storage, ctx.email and fetch)");
  };

  class TextEncoder { get encoding() { return 'utf-8'; } encode(s = '') { return encodeUtf8(s); } }
  class TextDecoder { get encoding() { return 'utf-8'; } decode(b) { return b === undefined ? '' : decodeUtf8(b instanceof ArrayBuffer ? new Uint8Array(b) : b); } }

  const define = (name, value) => Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  define('fetch', fetch);
  define('Headers', Headers);
  define('Response', Response);
  define('setTimeout', setTimeout);
  define('clearTimeout', clearTimeout);
  define('console', console);
  define('require', require);
  define('TextEncoder', TextEncoder);
  define('TextDecoder', TextDecoder);
  define('atob', (s) => util.atob(String(s)));
  define('btoa', (s) => util.btoa(String(s)));
  define('crypto', Object.freeze({ randomUUID: () => util.uuid() }));

  const collection = (name) => Object.freeze({
    create: (data) => call('db.create', [name, data]),
    get: (id) => call('db.get', [name, id]),
    list: (query = {}) => call('db.list', [name, query]),
    update: (id, patch) => call('db.update', [name, id, patch]),
    delete: (id) => call('db.delete', [name, id]),
  });
  const storage = Object.freeze({
    upload: (bucket, key, data, options = {}) => call('storage.upload', [bucket, key, typeof data === 'string' ? encodeUtf8(data) : data, options]),
    get: (fileId) => call('storage.get', [fileId]),
    download: async (fileId) => {
      const r = await call('storage.download', [fileId]);
      return { ...r, text: () => decodeUtf8(r.data) };
    },
    delete: (fileId) => call('storage.delete', [fileId]),
    list: (bucket, query = {}) => call('storage.list', [bucket, query]),
  });
  const email = Object.freeze({ send: (message) => call('email.send', [message]) });

  define('__invoke', async (moduleExports, event, env) => {
    const handler = moduleExports && typeof moduleExports.default === 'function' ? moduleExports.default
      : typeof moduleExports === 'function' ? moduleExports : null;
    if (!handler) {
      const err = new Error('The function has no default export: write export default async (event, ctx) => { ... }');
      err.code = 'NO_HANDLER';
      throw err;
    }
    const ctx = Object.freeze({
      log: (...a) => log('log', a),
      env: Object.freeze(env),
      db: Object.freeze({ collection }),
      storage,
      email,
      fetch,
    });
    const result = await handler(event, ctx);
    if (result === undefined) return undefined;
    let json;
    try { json = JSON.stringify(result); } catch (e) {
      const err = new Error('The function returned a value that is not JSON: ' + e.message);
      err.code = 'RESULT_NOT_JSON';
      throw err;
    }
    return json;
  });
})();
`;

/** A ready isolate: context made, bootstrap run, waiting for one run. */
interface Slot {
  isolate: Isolate;
  context: Context;
  invoke: Reference;
  memoryMb: number;
  run: RunState | null;
}

interface RunState {
  id: string;
  deadline: number;
  logs: RunLogLine[];
  logBytes: number;
  logLimit: number;
  logsTruncated: boolean;
  calls: number;
  finished: boolean;
}

const pendingCalls = new Map<number, { resolve(value: unknown): void }>();
let nextCallId = 1;
const codeCache = new Map<string, IsolatedVM.ExternalCopy<ArrayBuffer>>();
const spares = new Map<number, Slot>();
let bootstrapCache: IsolatedVM.ExternalCopy<ArrayBuffer> | undefined;

function send(message: FromHost): void {
  process.send!(message);
}

function prepare(memoryMb: number): Slot {
  const isolate = new ivm.Isolate({
    memoryLimit: memoryMb,
    // V8 lost control of the isolate: this process cannot be trusted any more. The worker
    // sees the exit, fails the runs it held (they are retried) and starts a new host.
    onCatastrophicError: () => process.abort(),
  });
  const context = isolate.createContextSync();
  const slot: Slot = { isolate, context, invoke: undefined as unknown as Reference, memoryMb, run: null }; // set below
  const jail = context.global;
  jail.setSync('globalThis', jail.derefInto());
  jail.setSync(
    '__hostCall',
    new ivm.Reference((method: string, args: unknown[]) => hostCall(slot, method, args)),
  );
  jail.setSync('__hostLog', new ivm.Callback((level: string, line: string) => appendLog(slot.run, level, line), { ignored: true }));
  jail.setSync(
    '__hostSleep',
    new ivm.Reference(
      (ms: number) =>
        new Promise<void>((resolve) => {
          const left = slot.run ? Math.max(0, slot.run.deadline - Date.now()) : 0;
          setTimeout(resolve, Math.min(ms, left + 50)).unref();
        }),
    ),
  );
  const util = {
    encode: new ivm.Callback((s: string) => new Uint8Array(Buffer.from(s, 'utf8'))),
    decode: new ivm.Callback((b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')),
    atob: new ivm.Callback((s: string) => Buffer.from(s, 'base64').toString('latin1')),
    btoa: new ivm.Callback((s: string) => Buffer.from(s, 'latin1').toString('base64')),
    uuid: new ivm.Callback(() => crypto.randomUUID()),
  };
  const utilRef = context.evalClosureSync(
    'return { encode: $0, decode: $1, atob: $2, btoa: $3, uuid: $4 };',
    [util.encode, util.decode, util.atob, util.btoa, util.uuid],
    { result: { reference: true } },
  );
  jail.setSync('__hostUtil', utilRef.derefInto());
  const script = isolate.compileScriptSync(BOOTSTRAP, {
    filename: 'file:///sandbox/bootstrap.js',
    ...(bootstrapCache ? { cachedData: bootstrapCache } : { produceCachedData: true }),
  });
  const produced = (script as IsolatedVM.Script & IsolatedVM.CachedDataResult).cachedData; // set by produceCachedData
  if (!bootstrapCache && produced) bootstrapCache = produced;
  script.runSync(context);
  slot.invoke = jail.getSync('__invoke', { reference: true });
  return slot;
}

/** A prepared isolate for this memory size (made ahead of time after the previous run). */
function takeSlot(memoryMb: number): Slot {
  const spare = spares.get(memoryMb);
  if (spare) {
    spares.delete(memoryMb);
    return spare;
  }
  return prepare(memoryMb);
}

function prepareSpare(memoryMb: number): void {
  setImmediate(() => {
    if (spares.has(memoryMb) || spares.size >= 4) return;
    try {
      spares.set(memoryMb, prepare(memoryMb));
    } catch {
      // Preparing ahead is an optimisation only; the next run prepares its own.
    }
  });
}

function appendLog(run: RunState | null, level: string, line: string): void {
  if (!run || run.finished || run.logsTruncated) return;
  const bytes = Buffer.byteLength(line) + 16;
  if (run.logBytes + bytes > run.logLimit) {
    run.logsTruncated = true;
    run.logs.push({ level: 'warn', message: `[log limit of ${run.logLimit} bytes reached; later lines dropped]`, at: new Date().toISOString() });
    return;
  }
  run.logBytes += bytes;
  const lvl = (['log', 'info', 'warn', 'error', 'debug'] as const).find((l) => l === level) ?? 'log';
  run.logs.push({ level: lvl, message: line, at: new Date().toISOString() });
}

function hostCall(slot: Slot, method: string, args: unknown[]): Promise<unknown> {
  const run = slot.run;
  if (!run || run.finished) return Promise.resolve({ ok: false, error: { code: 'RUN_OVER', message: 'The run is over' } });
  if (++run.calls > MAX_CALLS_PER_RUN) {
    return Promise.resolve({ ok: false, error: { code: 'TOO_MANY_CALLS', message: `At most ${MAX_CALLS_PER_RUN} ctx calls per run` } });
  }
  const callId = nextCallId++;
  return new Promise((resolve) => {
    pendingCalls.set(callId, { resolve });
    send({ t: 'call', runId: run.id, callId, method, args, remainingMs: Math.max(0, run.deadline - Date.now()) });
  });
}

function onReply(reply: CallReply): void {
  const pending = pendingCalls.get(reply.callId);
  if (!pending) return;
  pendingCalls.delete(reply.callId);
  pending.resolve(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: reply.error });
}

function errorOf(err: unknown): { name: string; message: string; stack?: string; code?: string } {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : 'Unknown error',
      stack: typeof e.stack === 'string' ? userStack(e.stack) : undefined,
      code: typeof e.code === 'string' ? e.code : undefined,
    };
  }
  return { name: 'Error', message: String(err) };
}

/** The frames of the function's own code: nothing of the host beyond the isolate boundary. */
function userStack(stack: string): string {
  const lines = stack.split('\n');
  const boundary = lines.findIndex((l) => l.includes('<isolated-vm boundary>'));
  return (boundary === -1 ? lines : lines.slice(0, boundary)).slice(0, 20).join('\n');
}

/** Errors the bootstrap raises itself, recognised by their message (codes do not cross isolates). */
const BOOTSTRAP_ERRORS: [RegExp, string][] = [
  [/^Error: The function has no default export/, 'NO_HANDLER'],
  [/^Error: The function returned a value that is not JSON/, 'RESULT_NOT_JSON'],
];

function wrap(code: string): string {
  // One line of prefix so the compiled code keeps its line numbers (+1) in stack traces.
  return `(function () { 'use strict'; const module = { exports: {} }; const exports = module.exports;\n${code}\n;return module.exports; })()`;
}

async function run(req: RunRequest): Promise<RunOutcome> {
  const slot = takeSlot(req.memoryMb);
  const state: RunState = {
    id: req.id,
    deadline: Date.now() + req.timeoutMs,
    logs: [],
    logBytes: 0,
    logLimit: req.logLimitBytes,
    logsTruncated: false,
    calls: 0,
    finished: false,
  };
  slot.run = state;
  const started = performance.now();
  let timedOut = false;
  // Sync code is stopped by isolated-vm's own timeout; anything else (a run awaiting
  // forever, a loop in a later microtask) by disposing the isolate.
  const watchdog = setTimeout(() => {
    timedOut = true;
    if (!slot.isolate.isDisposed) slot.isolate.dispose();
  }, req.timeoutMs);
  const remaining = () => Math.max(1, state.deadline - Date.now());
  try {
    const cached = codeCache.get(req.codeKey);
    const script = await slot.isolate.compileScript(wrap(req.code), {
      filename: 'file:///function.js',
      ...(cached ? { cachedData: cached } : { produceCachedData: true }),
    });
    const produced = (script as IsolatedVM.Script & IsolatedVM.CachedDataResult).cachedData; // set by produceCachedData
    if (!cached && produced) {
      if (codeCache.size >= CODE_CACHE_SIZE) codeCache.delete(codeCache.keys().next().value!);
      codeCache.set(req.codeKey, produced);
    }
    const moduleExports = (await script.run(slot.context, { reference: true, timeout: remaining() })) as Reference;
    const json = (await slot.invoke.apply(
      undefined,
      [moduleExports.derefInto(), new ivm.ExternalCopy(req.event).copyInto(), new ivm.ExternalCopy(req.env).copyInto()],
      { result: { promise: true, copy: true }, timeout: remaining() },
    )) as string | undefined;
    const durationMs = Math.round(performance.now() - started);
    if (json !== undefined && Buffer.byteLength(json) > MAX_RESULT_BYTES) {
      return failed(state, durationMs, { code: 'RESULT_TOO_LARGE', message: `The result is larger than ${MAX_RESULT_BYTES} bytes` });
    }
    return { status: 'succeeded', result: json === undefined ? null : JSON.parse(json), ...logsOf(state), durationMs };
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    const e = errorOf(err);
    if (timedOut || /Script execution timed out/.test(e.message)) {
      return {
        status: 'timed_out',
        error: { code: 'TIMEOUT', message: `The function did not finish within its timeout of ${req.timeoutMs} ms` },
        ...logsOf(state),
        durationMs,
      };
    }
    if (/memory limit/i.test(e.message)) {
      return failed(state, durationMs, {
        code: 'MEMORY_LIMIT',
        message: `The function used more than its memory limit of ${req.memoryMb} MB`,
      });
    }
    if (slot.isolate.isDisposed) {
      return failed(state, durationMs, { code: 'SANDBOX_ERROR', message: e.message });
    }
    const message = e.name && !e.message.startsWith(e.name) ? `${e.name}: ${e.message}` : e.message;
    const code = BOOTSTRAP_ERRORS.find(([pattern]) => pattern.test(message))?.[1];
    if (code) return failed(state, durationMs, { code, message: message.replace(/^Error: /, '') });
    return failed(state, durationMs, { code: 'FUNCTION_ERROR', message, ...(e.stack ? { stack: e.stack } : {}) });
  } finally {
    clearTimeout(watchdog);
    state.finished = true;
    slot.run = null;
    if (!slot.isolate.isDisposed) slot.isolate.dispose();
    // The next run of this size finds an isolate ready (made after this one, off its path).
    prepareSpare(req.memoryMb);
  }
}

function logsOf(state: RunState): { logs: RunLogLine[]; logsTruncated: boolean } {
  return { logs: state.logs, logsTruncated: state.logsTruncated };
}

function failed(state: RunState, durationMs: number, error: RunError): RunOutcome {
  return { status: 'failed', error, ...logsOf(state), durationMs };
}

process.on('message', (message: ToHost) => {
  if (message.t === 'reply') {
    onReply(message);
    return;
  }
  if (message.t === 'run') {
    run(message).then(
      (outcome) => send({ t: 'done', id: message.id, outcome }),
      (err: unknown) =>
        send({
          t: 'done',
          id: message.id,
          outcome: { status: 'failed', error: { code: 'SANDBOX_ERROR', message: errorOf(err).message }, logs: [], logsTruncated: false, durationMs: 0 },
        }),
    );
  }
});
// The worker is gone: so is the reason to live.
process.on('disconnect', () => process.exit(0));
prepareSpare(128);
send({ t: 'ready' });
