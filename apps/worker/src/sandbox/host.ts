/**
 * A sandbox host: a child process of the worker that runs functions, each run in a new V8
 * isolate (isolated-vm) with a memory limit and a timeout, and no Node API inside.
 *
 * Started by SandboxPool with the Node permission model (no fs writes, no child processes,
 * no workers, reads only of this file and isolated-vm), a clean environment and a heap cap.
 * Everything `ctx` offers (db, storage, email, fetch) is asked of the worker over IPC: this
 * process holds no credentials and opens no connections.
 *
 * Self-contained on purpose (only `import type` from the project, and bootstrap.ts, which has
 * no imports): in development Node runs this file directly with its built-in TypeScript type
 * stripping.
 */
import type IsolatedVM from 'isolated-vm';
import type { RunError, RunLogLine } from '#libs/functions';
import type { CallReply, FromHost, PoolOptions, RunOutcome, RunRequest, SandboxLimits, ToHost } from './protocol.js';

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

/** The bounds of what crosses out of an isolate (SANDBOX_LIMITS in protocol.ts, passed by the pool). */
const LIMITS = JSON.parse(process.argv[3] ?? 'null') as SandboxLimits | null;
if (!LIMITS) {
  process.stderr.write('host.ts needs the sandbox limits as its second argument\n');
  process.exit(2);
}
const CODE_CACHE_SIZE = 200;

/** The warm pool's bounds (SANDBOX_* settings, passed by the pool as the third argument). */
const POOL_OPTIONS = JSON.parse(process.argv[4] ?? 'null') as PoolOptions | null;
if (!POOL_OPTIONS) {
  process.stderr.write('host.ts needs the pool options as its third argument\n');
  process.exit(2);
}

/**
 * The bootstrap every context runs before the function (bootstrap.ts), as source text with
 * the limits in it: bootstrap.js beside the built host (bundled into the CLI's host.js), or
 * bootstrap.ts when Node runs this file from source with type stripping (development, tests).
 */
async function loadBootstrap(): Promise<typeof import('./bootstrap.js')> {
  if (import.meta.url.endsWith('.ts')) return (await import(new URL('./bootstrap.ts', import.meta.url).href)) as typeof import('./bootstrap.js');
  return import('./bootstrap.js');
}
const BOOTSTRAP = (await loadBootstrap()).bootstrapSource(LIMITS);

/** The context of one run: made for it in a warm isolate, released after it. */
interface Slot {
  context: Context;
  invoke: Reference;
  run: RunState | null;
}

/**
 * An isolate kept warm for one function version (never shared by two versions): its
 * bootstrap and the version's code compiled once, a new context for every run, one run at a
 * time. `key` is null while it is a blank spare not yet given to a version.
 */
interface Warm {
  key: string | null;
  memoryMb: number;
  isolate: Isolate;
  bootstrap: IsolatedVM.Script;
  script: IsolatedVM.Script | null;
  busy: boolean;
  lastUsed: number;
  /** Heap in use (V8 heap + external buffers) after its last run, for the LRU bound. */
  heapBytes: number;
  /**
   * A fresh context made after the last run, off the next run's path (creating one is most of
   * a warm start's CPU): bootstrap run, no user code run in it yet. Null until made.
   */
  next: Slot | null;
}

interface RunState {
  id: string;
  deadline: number;
  logs: RunLogLine[];
  logBytes: number;
  logLimit: number;
  logsTruncated: boolean;
  calls: number;
  pendingCalls: number;
  inflightBytes: number;
  /** Pending setTimeouts: id → clear. */
  timers: Map<number, () => void>;
  finished: boolean;
}

const limits = LIMITS;
const POOL = POOL_OPTIONS;
const pendingCalls = new Map<number, { resolve(value: unknown): void }>();
let nextCallId = 1;
const codeCache = new Map<string, IsolatedVM.ExternalCopy<ArrayBuffer>>();
/** Warm isolates by version (codeKey), oldest first. */
const warm = new Map<string, Warm[]>();
/** Blank isolates made ahead of time, by memory size (given to the next cold version). */
const blanks = new Map<number, Warm>();
let bootstrapCache: IsolatedVM.ExternalCopy<ArrayBuffer> | undefined;

function send(message: FromHost): void {
  process.send!(message);
}

/** A new isolate with the bootstrap compiled in it (not run: every context runs it). */
function newIsolate(memoryMb: number): Warm {
  const isolate = new ivm.Isolate({
    memoryLimit: memoryMb,
    // V8 lost control of the isolate: this process cannot be trusted any more. The worker
    // sees the exit, fails the runs it held (they are retried) and starts a new host.
    onCatastrophicError: () => process.abort(),
  });
  const bootstrap = isolate.compileScriptSync(BOOTSTRAP, {
    filename: 'file:///sandbox/bootstrap.js',
    ...(bootstrapCache ? { cachedData: bootstrapCache } : { produceCachedData: true }),
  });
  const produced = (bootstrap as IsolatedVM.Script & IsolatedVM.CachedDataResult).cachedData; // set by produceCachedData
  if (!bootstrapCache && produced) bootstrapCache = produced;
  return { key: null, memoryMb, isolate, bootstrap, script: null, busy: false, lastUsed: Date.now(), heapBytes: 0, next: null };
}

/**
 * A fresh context for one run in a warm isolate, with the bootstrap run in it. Every
 * function the isolate can call in the host takes primitives (or one ArrayBuffer) already
 * bounded in the isolate, checks them again, and never throws (an error crossing back would
 * carry host frames into the isolate).
 */
function newContext(w: Warm): Slot {
  const context = w.isolate.createContextSync();
  const slot: Slot = { context, invoke: undefined as unknown as Reference, run: null }; // set below
  const jail = context.global;
  jail.setSync('globalThis', jail.derefInto());
  jail.setSync(
    '__hostCall',
    new ivm.Reference((method: unknown, args: unknown, body: unknown) => hostCall(slot, method, args, body)),
  );
  jail.setSync('__hostLog', new ivm.Callback((level: unknown, line: unknown) => appendLog(slot.run, level, line), { ignored: true }));
  jail.setSync('__hostSleep', new ivm.Reference((ms: unknown, id: unknown) => hostSleep(slot, ms, id)));
  jail.setSync('__hostClear', new ivm.Callback((id: unknown) => hostClear(slot, id), { ignored: true }));
  jail.setSync('__hostUuid', new ivm.Callback(() => crypto.randomUUID()));
  w.bootstrap.runSync(context);
  slot.invoke = jail.getSync('__invoke', { reference: true });
  jail.deleteSync('__invoke'); // the host holds it; user code must not call it (it sets the log budget)
  return slot;
}

/**
 * An isolate for a run of this version: an idle warm one (warm start), else a blank spare
 * or a new one given to the version (cold start).
 */
function takeIsolate(key: string, memoryMb: number): { w: Warm; cold: boolean } {
  const list = warm.get(key) ?? [];
  for (let i = list.length - 1; i >= 0; i--) {
    const w = list[i]!;
    if (!w.busy && !w.isolate.isDisposed && w.memoryMb === memoryMb) {
      w.busy = true;
      return { w, cold: false };
    }
  }
  let w = blanks.get(memoryMb);
  if (w) blanks.delete(memoryMb);
  else w = newIsolate(memoryMb);
  w.key = key;
  w.busy = true;
  list.push(w);
  warm.set(key, list);
  return { w, cold: true };
}

/** Drops an isolate from the pool and frees it; tells the worker when its version has none left here. */
function discard(w: Warm): void {
  if (!w.isolate.isDisposed) w.isolate.dispose();
  if (w.key === null) return;
  const list = warm.get(w.key);
  if (!list) return;
  const i = list.indexOf(w);
  if (i !== -1) list.splice(i, 1);
  if (list.length === 0) {
    warm.delete(w.key);
    send({ t: 'evicted', key: w.key });
  }
}

/** Puts an isolate back after a run (or discards it), then keeps the pool within its bounds. */
function giveBack(w: Warm, keep: boolean): void {
  w.busy = false;
  w.lastUsed = Date.now();
  if (!keep || w.isolate.isDisposed) discard(w);
  else {
    try {
      const heap = w.isolate.getHeapStatisticsSync();
      w.heapBytes = heap.used_heap_size + heap.externally_allocated_size;
      prepareNext(w);
    } catch {
      discard(w);
    }
  }
  enforceBounds();
}

/** Makes the isolate's next fresh context once the host has nothing more urgent to do. */
function prepareNext(w: Warm): void {
  setImmediate(() => {
    if (w.next || w.busy || w.isolate.isDisposed) return;
    try {
      w.next = newContext(w);
    } catch {
      // An optimisation only: the next run makes its own.
    }
  });
}

/**
 * The LRU bound: while the warm isolates hold more than SANDBOX_WARM_MEMORY_MB (heap in use)
 * or number more than SANDBOX_WARM_ISOLATES, the least recently used idle one is dropped.
 */
function enforceBounds(): void {
  const all = [...warm.values()].flat();
  let bytes = all.reduce((sum, w) => sum + w.heapBytes, 0);
  let count = all.length;
  const idle = all.filter((w) => !w.busy).sort((a, b) => a.lastUsed - b.lastUsed);
  for (const w of idle) {
    if (bytes <= POOL.warmMemoryMb * 1024 * 1024 && count <= POOL.maxWarmIsolates) break;
    bytes -= w.heapBytes;
    count--;
    discard(w);
  }
}

/** Drops isolates idle for longer than SANDBOX_ISOLATE_IDLE_MS (and the blank spares with them). */
function sweepIdle(): void {
  const cutoff = Date.now() - POOL.isolateIdleMs;
  for (const w of [...warm.values()].flat()) if (!w.busy && w.lastUsed <= cutoff) discard(w);
  for (const [size, w] of blanks) {
    if (w.lastUsed <= cutoff) {
      blanks.delete(size);
      w.isolate.dispose();
    }
  }
}
setInterval(sweepIdle, Math.min(10_000, Math.max(20, Math.floor(POOL.isolateIdleMs / 4)))).unref();

/** Makes a blank isolate of this size ahead of time, off the run's path (the next cold start takes it). */
function prepareBlank(memoryMb: number): void {
  setImmediate(() => {
    if (blanks.has(memoryMb) || blanks.size >= 4) return;
    try {
      blanks.set(memoryMb, newIsolate(memoryMb));
    } catch {
      // Preparing ahead is an optimisation only; the next cold run makes its own.
    }
  });
}

/** What the host holds (tests and the worker's metrics read it). */
function poolStats(): { isolates: number; versions: number; heapBytes: number; blanks: number } {
  const all = [...warm.values()].flat();
  return { isolates: all.length, versions: warm.size, heapBytes: all.reduce((sum, w) => sum + w.heapBytes, 0), blanks: blanks.size };
}

const LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;

function appendLog(run: RunState | null, level: unknown, line: unknown): void {
  if (!run || run.finished || run.logsTruncated) return;
  const message = typeof line === 'string' ? line.slice(0, limits.maxLogLine + 1) : '';
  const bytes = Buffer.byteLength(message) + 16;
  if (level === 'cut' || run.logBytes + bytes > run.logLimit) {
    run.logsTruncated = true;
    run.logs.push({ level: 'warn', message: `[log limit of ${run.logLimit} bytes reached; later lines dropped]`, at: new Date().toISOString() });
    return;
  }
  run.logBytes += bytes;
  run.logs.push({ level: LEVELS.find((l) => l === level) ?? 'log', message, at: new Date().toISOString() });
}

/** One setTimeout of the run: resolves true when due, false when refused (over the cap), cleared or the run is over. */
function hostSleep(slot: Slot, ms: unknown, id: unknown): Promise<boolean> {
  const run = slot.run;
  if (!run || run.finished || typeof id !== 'number' || run.timers.size >= limits.maxTimers || run.timers.has(id)) return Promise.resolve(false);
  const left = Math.max(0, run.deadline - Date.now());
  const delay = Math.min(typeof ms === 'number' && ms > 0 ? ms : 0, left + 50);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      run.timers.delete(id);
      resolve(!run.finished);
    }, delay).unref();
    run.timers.set(id, () => {
      clearTimeout(timer);
      run.timers.delete(id);
      resolve(false);
    });
  });
}

function hostClear(slot: Slot, id: unknown): void {
  if (typeof id === 'number') slot.run?.timers.get(id)?.();
}

function refusal(code: string, message: string): { ok: false; error: { code: string; message: string } } {
  return { ok: false, error: { code, message } };
}

function hostCall(slot: Slot, method: unknown, args: unknown, body: unknown): Promise<unknown> {
  const run = slot.run;
  if (!run || run.finished) return Promise.resolve(refusal('RUN_OVER', 'The run is over'));
  if (typeof method !== 'string' || typeof args !== 'string' || (body !== undefined && !(body instanceof ArrayBuffer))) {
    return Promise.resolve(refusal('INVALID_ARGUMENT', 'Malformed ctx call'));
  }
  if (args.length > limits.maxArgsChars || (body && body.byteLength > limits.maxUploadBytes)) {
    return Promise.resolve(refusal('PAYLOAD_TOO_LARGE', 'The ctx call is too large'));
  }
  if (++run.calls > limits.maxCallsPerRun) {
    return Promise.resolve(refusal('TOO_MANY_CALLS', `At most ${limits.maxCallsPerRun} ctx calls per run`));
  }
  const size = body?.byteLength ?? 0;
  if (run.pendingCalls >= limits.maxPendingCalls || run.inflightBytes + size > limits.maxInflightBytes) {
    return Promise.resolve(refusal('TOO_MANY_CALLS', `At most ${limits.maxPendingCalls} ctx calls (${limits.maxInflightBytes} bytes) at once per run`));
  }
  run.pendingCalls++;
  run.inflightBytes += size;
  const callId = nextCallId++;
  return new Promise((resolve) => {
    pendingCalls.set(callId, {
      resolve: (value) => {
        run.pendingCalls--;
        run.inflightBytes -= size;
        resolve(value);
      },
    });
    send({
      t: 'call',
      runId: run.id,
      callId,
      method: method.slice(0, 50),
      args,
      ...(body ? { body: new Uint8Array(body) } : {}),
      remainingMs: Math.max(0, run.deadline - Date.now()),
    });
  });
}

function onReply(reply: CallReply): void {
  const pending = pendingCalls.get(reply.callId);
  if (!pending) return;
  pendingCalls.delete(reply.callId);
  pending.resolve(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: reply.error });
}

/** An error isolated-vm raised in the host (timeout, disposal, memory): its message, bounded. */
function hostErrorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : 'Unknown error';
  return message.slice(0, limits.maxErrorMessage);
}

/**
 * The frames of the function's own code: nothing of the host beyond the isolate boundary,
 * no path or Node internal (the bootstrap already filtered; this is the host's own check).
 */
function userStack(stack: string): string {
  const lines = stack.slice(0, limits.maxErrorStack * 2).split('\n');
  const boundary = lines.findIndex((l) => l.includes('<isolated-vm boundary>'));
  return (boundary === -1 ? lines : lines.slice(0, boundary))
    .filter((l) => !/^\s+at /.test(l) || l.includes('file:///function.js') || !/\/|node:/.test(l))
    .slice(0, 21)
    .join('\n')
    .slice(0, limits.maxErrorStack);
}

interface PackedError {
  name?: unknown;
  message?: unknown;
  stack?: unknown;
  code?: unknown;
  bootstrap?: unknown;
}

function wrap(code: string): string {
  // A function expression: compiling and running the script runs none of the function's
  // code; __invoke calls it inside the isolate, where everything it throws is caught and
  // bounded. One line of prefix, so line numbers are +1 in stack traces.
  return `(function () { 'use strict'; const module = { exports: {} }; const exports = module.exports;\n${code}\n;return module.exports; })`;
}

async function run(req: RunRequest): Promise<RunOutcome> {
  const { w, cold } = takeIsolate(req.codeKey, req.memoryMb);
  const state: RunState = {
    id: req.id,
    deadline: Date.now() + req.timeoutMs,
    logs: [],
    logBytes: 0,
    logLimit: req.logLimitBytes,
    logsTruncated: false,
    calls: 0,
    pendingCalls: 0,
    inflightBytes: 0,
    timers: new Map(),
    finished: false,
  };
  const started = performance.now();
  const cpuBefore = w.isolate.cpuTime;
  let timedOut = false;
  let slot: Slot | undefined;
  // Whether the isolate may serve the next run of this version: not after a timeout, a
  // memory cap or any failure of the sandbox itself (only the function's own throw keeps it).
  let keep = false;
  // Sync code is stopped by isolated-vm's own timeout; anything else (a run awaiting
  // forever, a loop in a later microtask) by disposing the isolate: only this run is in it.
  const watchdog = setTimeout(() => {
    timedOut = true;
    if (!w.isolate.isDisposed) w.isolate.dispose();
  }, req.timeoutMs);
  const remaining = () => Math.max(1, state.deadline - Date.now());
  const metered = (outcome: RunOutcome): RunOutcome => ({ ...outcome, ...metering(w, cold, cpuBefore) });
  try {
    if (!w.script) {
      const cached = codeCache.get(req.codeKey);
      w.script = await w.isolate.compileScript(wrap(req.code), {
        filename: 'file:///function.js',
        ...(cached ? { cachedData: cached } : { produceCachedData: true }),
      });
      const produced = (w.script as IsolatedVM.Script & IsolatedVM.CachedDataResult).cachedData; // set by produceCachedData
      if (!cached && produced) {
        if (codeCache.size >= CODE_CACHE_SIZE) codeCache.delete(codeCache.keys().next().value!);
        codeCache.set(req.codeKey, produced);
      }
    }
    slot = w.next ?? newContext(w);
    w.next = null;
    slot.run = state;
    const factory = (await w.script.run(slot.context, { reference: true, timeout: remaining() })) as Reference;
    const packed: unknown = await slot.invoke.apply(
      undefined,
      [factory.derefInto(), new ivm.ExternalCopy(req.event).copyInto(), new ivm.ExternalCopy(req.env).copyInto(), req.logLimitBytes],
      { result: { promise: true, copy: true }, timeout: remaining() },
    );
    factory.release();
    const durationMs = Math.round(performance.now() - started);
    // A run that left ctx calls or timers behind could still run code in this isolate later:
    // the isolate goes with it.
    keep = !timedOut && state.pendingCalls === 0 && state.timers.size === 0;
    return metered(outcomeOf(state, packed, durationMs));
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    const message = hostErrorMessage(err);
    if (timedOut || /Script execution timed out/.test(message)) {
      return metered({
        status: 'timed_out',
        error: { code: 'TIMEOUT', message: `The function did not finish within its timeout of ${req.timeoutMs} ms` },
        ...logsOf(state),
        durationMs,
      });
    }
    if (/memory limit/i.test(message)) {
      return metered(
        failed(state, durationMs, {
          code: 'MEMORY_LIMIT',
          message: `The function used more than its memory limit of ${req.memoryMb} MB`,
        }),
      );
    }
    if (w.isolate.isDisposed) return metered(failed(state, durationMs, { code: 'SANDBOX_ERROR', message }));
    // A syntax error at compile time (the api compiled it, so rare) or a stack overflow.
    return metered(failed(state, durationMs, { code: 'FUNCTION_ERROR', message }));
  } finally {
    clearTimeout(watchdog);
    state.finished = true;
    for (const clear of [...state.timers.values()]) clear();
    if (slot) {
      slot.run = null;
      if (!w.isolate.isDisposed) {
        slot.invoke.release();
        slot.context.release();
      }
    }
    giveBack(w, keep);
    // The next cold start of this size finds a blank isolate ready (made off this run's path).
    if (cold) prepareBlank(req.memoryMb);
  }
}

/** CPU time and heap of the run, read from its isolate (zero when the isolate is gone). */
function metering(w: Warm, cold: boolean, cpuBefore: bigint): { cold: boolean; cpuMs: number; memoryBytes: number } {
  try {
    const heap = w.isolate.getHeapStatisticsSync();
    return {
      cold,
      cpuMs: Math.round(Number(w.isolate.cpuTime - cpuBefore) / 1e4) / 100,
      memoryBytes: heap.used_heap_size + heap.externally_allocated_size,
    };
  } catch {
    return { cold, cpuMs: 0, memoryBytes: 0 };
  }
}

/** Reads __invoke's answer: 'U' (undefined), 'R' + result JSON, or 'E' + error record JSON. */
function outcomeOf(state: RunState, packed: unknown, durationMs: number): RunOutcome {
  const bound = limits.maxResultChars + limits.maxErrorMessage + limits.maxErrorStack + 1024;
  if (typeof packed !== 'string' || packed.length === 0 || packed.length > bound) {
    return failed(state, durationMs, { code: 'SANDBOX_ERROR', message: 'The sandbox answered in an unexpected shape' });
  }
  if (packed === 'U') return { status: 'succeeded', ...logsOf(state), durationMs };
  if (packed[0] === 'R') {
    const json = packed.slice(1);
    if (Buffer.byteLength(json) > limits.maxResultBytes) {
      return failed(state, durationMs, { code: 'RESULT_TOO_LARGE', message: `The result is larger than ${limits.maxResultBytes} bytes` });
    }
    return { status: 'succeeded', resultJson: json, ...logsOf(state), durationMs };
  }
  let e: PackedError = {};
  try {
    e = JSON.parse(packed.slice(1)) as PackedError; // the record built by the bootstrap; fields checked below
  } catch {
    // fall through with the defaults
  }
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : undefined);
  const name = str(e.name, 100) ?? 'Error';
  let message = str(e.message, limits.maxErrorMessage) ?? 'Unknown error';
  const code = str(e.code, 100);
  if (e.bootstrap === true && code) return failed(state, durationMs, { code, message });
  if (name && !message.startsWith(name)) message = `${name}: ${message}`;
  const stack = str(e.stack, limits.maxErrorStack * 2);
  return failed(state, durationMs, { code: 'FUNCTION_ERROR', message, ...(stack ? { stack: userStack(stack) } : {}) });
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
  if (message.t === 'stats') {
    send({ t: 'stats', stats: poolStats() });
    return;
  }
  if (message.t === 'run') {
    run(message).then(
      (outcome) => send({ t: 'done', id: message.id, outcome }),
      (err: unknown) =>
        send({
          t: 'done',
          id: message.id,
          outcome: { status: 'failed', error: { code: 'SANDBOX_ERROR', message: hostErrorMessage(err) }, logs: [], logsTruncated: false, durationMs: 0 },
        }),
    );
  }
});
// The worker is gone: so is the reason to live.
process.on('disconnect', () => process.exit(0));
prepareBlank(128);
send({ t: 'ready' });
