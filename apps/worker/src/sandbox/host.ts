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
 * Runs inside every isolate before the function: removes what allocates outside the V8 heap,
 * builds `ctx`, the guarded global `fetch`, `console`, timers, encoders and a `require` that
 * refuses every module. It captures the host bridges (set as globals just before) and
 * removes them from the global object. Everything that leaves the isolate is checked here
 * against LIMITS before it is copied (user code may have replaced any global or prototype
 * method by then, so the checks use captured originals and primitive lengths), and the host
 * checks again after the copy.
 */
const BOOTSTRAP = String.raw`
'use strict';
(() => {
  const g = globalThis;
  const hostCall = g.__hostCall, hostLog = g.__hostLog, hostSleep = g.__hostSleep, hostClear = g.__hostClear, hostUuid = g.__hostUuid;
  for (const k of ['__hostCall', '__hostLog', '__hostSleep', '__hostClear', '__hostUuid']) delete g[k];
  const L = ${JSON.stringify(LIMITS)};

  // Primordials: the checks below run after user code, which may replace any global or
  // prototype method; every bound is enforced with these captured originals and primitives.
  const ReflectApply = Reflect.apply, ObjectDefineProperty = Object.defineProperty, ObjectFreeze = Object.freeze;
  const ObjectGetPrototypeOf = Object.getPrototypeOf, ObjectSetPrototypeOf = Object.setPrototypeOf;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor, ObjectKeys = Object.keys;
  const uncurry = (fn) => (self, ...args) => ReflectApply(fn, self, args);
  const StringC = String, NumberC = Number, MathMax = Math.max, MathMin = Math.min, MathTrunc = Math.trunc, DateNow = Date.now;
  const ErrorC = Error, RangeErrorC = RangeError, TypeErrorC = TypeError, PromiseC = Promise, MapC = Map;
  const JSONStringify = JSON.stringify, JSONParse = JSON.parse;
  const StringSlice = uncurry(String.prototype.slice), StringCharCodeAt = uncurry(String.prototype.charCodeAt);
  const StringFromCharCode = String.fromCharCode, StringIndexOf = uncurry(String.prototype.indexOf);
  const StringSplit = uncurry(String.prototype.split), ArrayJoin = uncurry(Array.prototype.join);
  const ArrayFilter = uncurry(Array.prototype.filter), ArrayPush = uncurry(Array.prototype.push);
  const MapGet = uncurry(Map.prototype.get), MapSet = uncurry(Map.prototype.set), MapDelete = uncurry(Map.prototype.delete);
  const MapHas = uncurry(Map.prototype.has);
  const MapSize = uncurry(ObjectGetOwnPropertyDescriptor(Map.prototype, 'size').get);
  const PromiseThen = uncurry(Promise.prototype.then);
  const U8 = Uint8Array;
  const TypedArrayProto = ObjectGetPrototypeOf(Uint8Array.prototype);
  const TypedByteLength = uncurry(ObjectGetOwnPropertyDescriptor(TypedArrayProto, 'byteLength').get);
  const TypedSet = uncurry(TypedArrayProto.set), TypedSubarray = uncurry(TypedArrayProto.subarray);
  const U8Buffer = uncurry(ObjectGetOwnPropertyDescriptor(TypedArrayProto, 'buffer').get);
  const TypedByteOffset = uncurry(ObjectGetOwnPropertyDescriptor(TypedArrayProto, 'byteOffset').get);
  const DVProto = DataView.prototype;
  const DVBuffer = uncurry(ObjectGetOwnPropertyDescriptor(DVProto, 'buffer').get);
  const DVByteOffset = uncurry(ObjectGetOwnPropertyDescriptor(DVProto, 'byteOffset').get);
  const DVByteLength = uncurry(ObjectGetOwnPropertyDescriptor(DVProto, 'byteLength').get);
  const OrigArrayBuffer = ArrayBuffer;
  const ABByteLength = uncurry(ObjectGetOwnPropertyDescriptor(OrigArrayBuffer.prototype, 'byteLength').get);

  // Memory outside the V8 heap. Plain ArrayBuffers and typed arrays are counted against the
  // isolate's memoryLimit by isolated-vm's allocator; these are not, so they are removed:
  // WebAssembly memories (also shared ones), resizable ArrayBuffers (resize) and growable
  // SharedArrayBuffers (grow). Their constructors and methods are unreachable afterwards:
  // no instance exists to walk a constructor chain from, and this context is the only realm.
  delete g.WebAssembly;
  delete OrigArrayBuffer.prototype.resize;
  if (typeof SharedArrayBuffer === 'function') delete SharedArrayBuffer.prototype.grow;
  delete g.SharedArrayBuffer;
  const noResizable = () => new RangeErrorC('Resizable and shared ArrayBuffers are not available in functions (memoryMb counts every buffer)');
  const SafeArrayBuffer = function ArrayBuffer(length, options) {
    if (new.target === undefined) throw new TypeErrorC("Constructor ArrayBuffer requires 'new'");
    if (options !== undefined && options !== null && (typeof options === 'object' || typeof options === 'function')) {
      if (options.maxByteLength !== undefined) throw noResizable();
    }
    const n = length === undefined ? 0 : MathTrunc(NumberC(length));
    const buffer = new OrigArrayBuffer(n !== n ? 0 : n); // only a primitive reaches the original
    if (new.target !== SafeArrayBuffer) ObjectSetPrototypeOf(buffer, new.target.prototype);
    return buffer;
  };
  for (const key of Reflect.ownKeys(OrigArrayBuffer)) {
    if (key === 'length' || key === 'name') continue;
    ObjectDefineProperty(SafeArrayBuffer, key, ObjectGetOwnPropertyDescriptor(OrigArrayBuffer, key));
  }
  ObjectDefineProperty(OrigArrayBuffer.prototype, 'constructor', { value: SafeArrayBuffer, writable: true, configurable: true, enumerable: false });

  const clip = (s, max) => (s.length > max ? StringSlice(s, 0, max) + '…' : s);
  const text = (v, max) => {
    try {
      const s = typeof v === 'string' ? v : StringC(v);
      return typeof s === 'string' ? clip(s, max) : '';
    } catch { return '[unprintable]'; }
  };

  // Logs: a per-run budget (set by __invoke) stops lines in here, before they cross.
  let logBudget = 0, logsCut = false;
  const show = (v) => {
    if (typeof v === 'string') return v;
    try {
      if (v instanceof ErrorC) return typeof v.stack === 'string' ? v.stack : StringC(v);
      const s = JSONStringify(v);
      return s === undefined ? StringC(v) : s;
    } catch { try { return StringC(v); } catch { return '[unprintable]'; } }
  };
  const log = (level, args) => {
    if (logsCut) return;
    let line = '';
    for (let i = 0; i < args.length && line.length <= L.maxLogLine; i++) {
      const part = show(args[i]);
      line += (i ? ' ' : '') + (typeof part === 'string' ? clip(part, L.maxLogLine) : '');
    }
    if (typeof line !== 'string') return;
    line = clip(line, L.maxLogLine);
    logBudget -= line.length + 16;
    if (logBudget < 0) { logsCut = true; hostLog('cut', ''); return; }
    hostLog(level, line);
  };

  // ctx calls: arguments cross as one bounded JSON string plus at most one byte copy of
  // exactly the bytes sent (a view never drags its whole buffer along).
  let pendingCalls = 0, inflightBytes = 0;
  const failure = (code, message, status) => {
    const err = new ErrorC(message);
    err.code = code;
    if (status) err.status = status;
    return err;
  };
  const isArrayBuffer = (v) => { try { ABByteLength(v); return true; } catch { return false; } };
  /** [buffer, offset, length] of a view, read with the original getters; null for anything else. */
  const viewParts = (v) => {
    try { return [U8Buffer(v), TypedByteOffset(v), TypedByteLength(v)]; } catch {}
    try { return [DVBuffer(v), DVByteOffset(v), DVByteLength(v)]; } catch {}
    return null;
  };
  const bytesView = (data) => {
    if (isArrayBuffer(data)) return new U8(data);
    const parts = viewParts(data);
    return parts ? new U8(parts[0], parts[1], parts[2]) : null;
  };
  /** A fresh ArrayBuffer of exactly the bytes to send (a view never drags its whole buffer along). */
  const bytesOf = (data, what, max) => {
    const view = typeof data === 'string' ? encodeUtf8(data) : bytesView(data);
    if (!view) throw failure('INVALID_ARGUMENT', what + ' must be a string, an ArrayBuffer or a typed array');
    const n = TypedByteLength(view);
    if (n > max) throw failure('PAYLOAD_TOO_LARGE', what + ' is larger than ' + max + ' bytes');
    const copy = new U8(n);
    TypedSet(copy, view);
    return U8Buffer(copy);
  };
  async function call(method, args, body) {
    const json = JSONStringify(args);
    if (typeof json !== 'string' || json.length > L.maxArgsChars) {
      throw failure('PAYLOAD_TOO_LARGE', 'ctx ' + method + ': the arguments are larger than ' + L.maxArgsChars + ' characters of JSON');
    }
    const size = body === undefined ? 0 : ABByteLength(body);
    if (pendingCalls >= L.maxPendingCalls) throw failure('TOO_MANY_CALLS', 'At most ' + L.maxPendingCalls + ' ctx calls at once per run');
    if (inflightBytes + size > L.maxInflightBytes) throw failure('PAYLOAD_TOO_LARGE', 'At most ' + L.maxInflightBytes + ' bytes of ctx call bodies at once per run');
    pendingCalls++;
    inflightBytes += size;
    let r;
    try {
      r = await hostCall.apply(undefined, [method, json, body], { arguments: { copy: true }, result: { promise: true, copy: true } });
    } catch (e) {
      r = { ok: false, error: { code: 'CTX_FAILED', message: 'ctx call ' + method + ' failed' } };
    } finally {
      pendingCalls--;
      inflightBytes -= size;
    }
    if (r && r.ok) return r.value;
    const e = r && r.error ? r.error : { code: 'CTX_FAILED', message: 'ctx call ' + method + ' failed' };
    throw failure(e.code, e.message, e.status);
  }

  // UTF-8 and base64 inside the isolate: nothing the function encodes crosses into the host.
  function encodeUtf8(input) {
    const s = StringC(input);
    const n = s.length;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const c = StringCharCodeAt(s, i);
      if (c < 0x80) size += 1;
      else if (c < 0x800) size += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (StringCharCodeAt(s, i + 1) & 0xfc00) === 0xdc00) { size += 4; i++; }
      else size += 3;
    }
    const out = new U8(size);
    let p = 0;
    for (let i = 0; i < n; i++) {
      let c = StringCharCodeAt(s, i);
      if (c < 0x80) { out[p++] = c; continue; }
      if (c < 0x800) { out[p++] = 0xc0 | (c >> 6); out[p++] = 0x80 | (c & 63); continue; }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? StringCharCodeAt(s, i + 1) : 0;
        if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18); out[p++] = 0x80 | ((c >> 12) & 63); out[p++] = 0x80 | ((c >> 6) & 63); out[p++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd; // a lone surrogate
      }
      out[p++] = 0xe0 | (c >> 12); out[p++] = 0x80 | ((c >> 6) & 63); out[p++] = 0x80 | (c & 63);
    }
    return out;
  }
  function decodeUtf8(input) {
    const b = bytesView(input);
    if (!b) throw new TypeErrorC('TextDecoder.decode needs an ArrayBuffer or a typed array');
    const n = b.length;
    let out = '', chunk = [];
    const flush = () => { out += ReflectApply(StringFromCharCode, undefined, chunk); chunk = []; };
    for (let i = 0; i < n;) {
      const c = b[i];
      let cp = 0xfffd, len = 1;
      if (c < 0x80) cp = c;
      else if (c >= 0xc2 && c <= 0xdf && i + 1 < n && (b[i + 1] & 0xc0) === 0x80) { cp = ((c & 31) << 6) | (b[i + 1] & 63); len = 2; }
      else if (c >= 0xe0 && c <= 0xef && i + 2 < n && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
        const v = ((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63);
        if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) { cp = v; len = 3; }
      } else if (c >= 0xf0 && c <= 0xf4 && i + 3 < n && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80) {
        const v = ((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63);
        if (v >= 0x10000 && v <= 0x10ffff) { cp = v; len = 4; }
      }
      i += len;
      if (cp > 0xffff) { cp -= 0x10000; chunk[chunk.length] = 0xd800 + (cp >> 10); chunk[chunk.length] = 0xdc00 + (cp & 1023); }
      else chunk[chunk.length] = cp;
      if (chunk.length >= 8192) flush();
    }
    flush();
    return out;
  }
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64INDEX = new MapC();
  const B64CODES = [];
  for (let i = 0; i < 64; i++) { MapSet(B64INDEX, B64[i], i); B64CODES[i] = StringCharCodeAt(B64, i); }
  const invalidChar = (what) => { const e = new ErrorC(what); e.name = 'InvalidCharacterError'; return e; };
  function btoa(input) {
    const s = StringC(input);
    let out = '', chunk = [];
    for (let i = 0; i < s.length; i += 3) {
      const a = StringCharCodeAt(s, i), b = i + 1 < s.length ? StringCharCodeAt(s, i + 1) : -1, c = i + 2 < s.length ? StringCharCodeAt(s, i + 2) : -1;
      if (a > 255 || b > 255 || c > 255) throw invalidChar('btoa: the string has characters outside of Latin1');
      const x = (a << 16) | ((b < 0 ? 0 : b) << 8) | (c < 0 ? 0 : c);
      chunk[chunk.length] = B64CODES[(x >> 18) & 63];
      chunk[chunk.length] = B64CODES[(x >> 12) & 63];
      chunk[chunk.length] = b < 0 ? 61 : B64CODES[(x >> 6) & 63];
      chunk[chunk.length] = c < 0 ? 61 : B64CODES[x & 63];
      if (chunk.length >= 8192) { out += ReflectApply(StringFromCharCode, undefined, chunk); chunk = []; }
    }
    return out + ReflectApply(StringFromCharCode, undefined, chunk);
  }
  function atob(input) {
    let s = '';
    const raw = StringC(input);
    for (let i = 0; i < raw.length; i++) {
      const ch = raw[i];
      if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\f' && ch !== '\r') s += ch;
    }
    if (s.length % 4 === 0 && s.length) { if (s[s.length - 1] === '=') s = StringSlice(s, 0, s[s.length - 2] === '=' ? -2 : -1); }
    if (s.length % 4 === 1) throw invalidChar('atob: the string is not valid base64');
    let out = '', chunk = [];
    let bits = 0, acc = 0;
    for (let i = 0; i < s.length; i++) {
      const v = MapGet(B64INDEX, s[i]);
      if (v === undefined) throw invalidChar('atob: the string is not valid base64');
      acc = (acc << 6) | v; bits += 6;
      if (bits >= 8) { bits -= 8; chunk[chunk.length] = (acc >> bits) & 255; }
      if (chunk.length >= 8192) { out += ReflectApply(StringFromCharCode, undefined, chunk); chunk = []; }
    }
    return out + ReflectApply(StringFromCharCode, undefined, chunk);
  }

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

  /**
   * The only way out to the network: the worker refuses loopback, private and link-local
   * targets. A body is bounded here, and the worker checks the address before it is sent.
   */
  async function fetch(input, init = {}) {
    const url = typeof input === 'string' ? input : input && typeof input.url === 'string' ? input.url : StringC(input);
    let body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !isArrayBuffer(body) && !viewParts(body)) {
      body = JSONStringify(body);
    }
    const bytes = body === undefined || body === null ? undefined : bytesOf(body, 'The fetch body', L.maxFetchBodyBytes);
    const headers = init.headers ? Object.fromEntries(new Headers(init.headers).entries()) : {};
    if (bytes !== undefined) await call('fetch.check', [url]);
    const r = await call('fetch', [url, { method: init.method ? StringC(init.method).toUpperCase() : 'GET', headers, redirect: init.redirect || 'follow' }], bytes);
    return new Response(r);
  }

  // Timers: at most maxTimers pending per run, each one host timer; clearTimeout clears the
  // host timer too, so the isolate's count and the host's are the same.
  const timers = new MapC();
  let nextTimer = 1;
  const setTimeout = (fn, ms, ...args) => {
    if (MapSize(timers) >= L.maxTimers) throw new RangeErrorC('At most ' + L.maxTimers + ' pending timers per run');
    const delay = MathMax(0, NumberC(ms) || 0);
    const id = nextTimer++;
    MapSet(timers, id, true);
    PromiseThen(hostSleep.apply(undefined, [delay, id], { result: { promise: true } }), (due) => {
      if (MapDelete(timers, id) && due === true && typeof fn === 'function') fn(...args);
    }, () => { MapDelete(timers, id); });
    return id;
  };
  const clearTimeout = (id) => { if (MapDelete(timers, id)) hostClear(id); };

  const console = {
    log: (...a) => log('log', a), info: (...a) => log('info', a), warn: (...a) => log('warn', a),
    error: (...a) => log('error', a), debug: (...a) => log('debug', a),
  };

  const require = (name) => {
    throw new ErrorC("Cannot import '" + text(name, 200) + "': functions have no Node modules (use ctx.db, ctx.storage, ctx.email and fetch)");
  };

  class TextEncoder { get encoding() { return 'utf-8'; } encode(s = '') { return encodeUtf8(s); } }
  class TextDecoder { get encoding() { return 'utf-8'; } decode(b) { return b === undefined ? '' : decodeUtf8(b); } }

  const define = (name, value) => ObjectDefineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  define('fetch', fetch);
  define('Headers', Headers);
  define('Response', Response);
  define('setTimeout', setTimeout);
  define('clearTimeout', clearTimeout);
  define('console', console);
  define('require', require);
  define('TextEncoder', TextEncoder);
  define('TextDecoder', TextDecoder);
  define('atob', atob);
  define('btoa', btoa);
  define('crypto', ObjectFreeze({ randomUUID: () => StringC(hostUuid()) }));
  define('ArrayBuffer', SafeArrayBuffer);

  const collection = (name) => ObjectFreeze({
    create: (data) => call('db.create', [name, data]),
    get: (id, options) => call('db.get', options === undefined ? [name, id] : [name, id, options]),
    list: (query = {}) => call('db.list', [name, query]),
    update: (id, patch) => call('db.update', [name, id, patch]),
    delete: (id) => call('db.delete', [name, id]),
  });
  const storage = ObjectFreeze({
    upload: (bucket, key, data, options = {}) => {
      const bytes = bytesOf(data, 'The upload', L.maxUploadBytes);
      return call('storage.upload', [bucket, key, options], bytes);
    },
    get: (fileId) => call('storage.get', [fileId]),
    download: async (fileId) => {
      const r = await call('storage.download', [fileId]);
      return r === null ? null : { ...r, text: () => decodeUtf8(r.data) };
    },
    delete: (fileId) => call('storage.delete', [fileId]),
    list: (bucket, query = {}) => call('storage.list', [bucket, query]),
  });
  const email = ObjectFreeze({ send: (message) => call('email.send', [message]) });
  const auth = ObjectFreeze({
    get: (userId) => call('auth.get', [userId]),
    findByEmail: (email) => call('auth.findByEmail', [email]),
    list: (query = {}) => call('auth.list', [query]),
    create: (user) => call('auth.create', [user]),
    update: (userId, changes) => call('auth.update', [userId, changes]),
    disable: (userId) => call('auth.update', [userId, { disabled: true }]),
    enable: (userId) => call('auth.update', [userId, { disabled: false }]),
  });

  // Stack frames of the function's own code only (and the message line).
  const userStack = (stack) => {
    const lines = StringSplit(clip(stack, L.maxErrorStack * 2), '\n');
    const kept = [];
    for (let i = 0; i < lines.length && kept.length < 21; i++) {
      const l = lines[i];
      if (StringIndexOf(l, '<isolated-vm boundary>') !== -1) break;
      const frame = /^\s+at /.test(l);
      if (!frame || StringIndexOf(l, 'file:///function.js') !== -1 || (StringIndexOf(l, '/') === -1 && StringIndexOf(l, 'node:') === -1)) ArrayPush(kept, l);
    }
    return clip(ArrayJoin(kept, '\n'), L.maxErrorStack);
  };
  // A thrown value, read with bounded copies of its parts; nothing of it is thrown onwards.
  const errorRecord = (err) => {
    let name = 'Error', message = 'Unknown error', stack, code;
    try {
      if (err !== null && (typeof err === 'object' || typeof err === 'function')) {
        const n = err.name, m = err.message, s = err.stack, c = err.code;
        if (typeof n === 'string') name = clip(n, 100);
        message = typeof m === 'string' ? clip(m, L.maxErrorMessage) : text(err, L.maxErrorMessage);
        if (typeof s === 'string') stack = userStack(s);
        if (typeof c === 'string') code = clip(c, 100);
      } else message = text(err, L.maxErrorMessage);
    } catch { message = 'The function threw a value that cannot be read'; }
    return { name, message, stack, code };
  };
  const packError = (err, code) => {
    try {
      const r = errorRecord(err);
      const s = JSONStringify({ name: r.name, message: r.message, stack: r.stack, code: code || r.code, bootstrap: !!code });
      if (typeof s === 'string' && s.length <= L.maxErrorMessage + L.maxErrorStack + 1024) return 'E' + s;
    } catch {}
    return 'E{"name":"Error","message":"The function threw a value that cannot be read"}';
  };

  let invoked = false;
  define('__invoke', async (factory, event, env, logLimit) => {
    if (invoked) return packError(new ErrorC('__invoke runs once'), 'SANDBOX_ERROR');
    invoked = true;
    logBudget = NumberC(logLimit) || 0;
    try {
      const moduleExports = factory();
      const handler = moduleExports && typeof moduleExports.default === 'function' ? moduleExports.default
        : typeof moduleExports === 'function' ? moduleExports : null;
      if (!handler) {
        return packError(new ErrorC('The function has no default export: write export default async (event, ctx) => { ... }'), 'NO_HANDLER');
      }
      const ctx = ObjectFreeze({
        log: (...a) => log('log', a),
        env: ObjectFreeze(env),
        db: ObjectFreeze({ collection }),
        storage,
        email,
        auth,
        fetch,
      });
      const result = await handler(event, ctx);
      if (result === undefined) return 'U';
      let json;
      try { json = JSONStringify(result); } catch (e) {
        return packError(new ErrorC('The function returned a value that is not JSON: ' + errorRecord(e).message), 'RESULT_NOT_JSON');
      }
      if (json === undefined) return 'U';
      if (typeof json !== 'string') return packError(new ErrorC('The function returned a value that is not JSON'), 'RESULT_NOT_JSON');
      if (json.length > L.maxResultChars) return packError(new ErrorC('The result is larger than ' + L.maxResultBytes + ' bytes'), 'RESULT_TOO_LARGE');
      return 'R' + json;
    } catch (err) {
      return packError(err);
    }
  });
})();
`;

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
  return { key: null, memoryMb, isolate, bootstrap, script: null, busy: false, lastUsed: Date.now(), heapBytes: 0 };
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
    } catch {
      discard(w);
    }
  }
  enforceBounds();
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
    slot = newContext(w);
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
