import type { SandboxLimits } from './protocol.js';

/**
 * The sandbox bootstrap: the code that runs inside every isolate context before the function.
 *
 * host.ts puts it into each isolate as source text, `'use strict'; (<sandboxBootstrap>)(<limits>)`
 * (bootstrapSource below), so `sandboxBootstrap` must be self-contained: no imports, no
 * reference to anything of this module or of Node (only the globals of a bare V8 context and
 * what it is given). bootstrap.spec.ts checks that on the compiled output (tsc and Node's type
 * stripping) and runs it in an isolate. Only types may be imported here: host.ts loads this
 * file at runtime under the permission model, which lets it read nothing else.
 */

/** An isolated-vm Reference to a host function, as seen inside the isolate. */
interface HostReference {
  apply(receiver: undefined, args: unknown[], options: { arguments?: { copy: true }; result: { promise: true; copy?: true } }): Promise<unknown>;
}

/** The globals the host sets on a fresh context just before the bootstrap runs (removed by it). */
interface HostBridges {
  __hostCall: HostReference;
  __hostLog: (level: string, line: string) => void;
  __hostSleep: HostReference;
  __hostClear: (id: number) => void;
  __hostUuid: () => unknown;
}

/** A ctx call's answer from the host. */
interface CallAnswer {
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string; status?: number };
}

/** A fetch answer (GuardedResponse of net-guard.ts, after the copy into the isolate). */
interface FetchAnswer {
  status: number;
  statusText: string;
  url: string;
  redirected: boolean;
  headers: [string, string][];
  body: Uint8Array;
}

type SandboxError = Error & { code?: string; status?: number };
type Level = 'log' | 'info' | 'warn' | 'error' | 'debug';
type ModuleExports = { default?: unknown } | ((...args: unknown[]) => unknown) | null | undefined;
type Handler = (event: unknown, ctx: unknown) => unknown;

/** The script host.ts compiles in every isolate (run once per context). */
export function bootstrapSource(limits: SandboxLimits): string {
  return `'use strict';\n(${sandboxBootstrap.toString()})(${JSON.stringify(limits)});\n`;
}

/**
 * Runs inside every isolate before the function: removes what allocates outside the V8 heap,
 * builds `ctx`, the guarded global `fetch`, `console`, timers, encoders and a `require` that
 * refuses every module. It captures the host bridges (set as globals just before) and
 * removes them from the global object. Everything that leaves the isolate is checked here
 * against `L` (SANDBOX_LIMITS) before it is copied (user code may have replaced any global or
 * prototype method by then, so the checks use captured originals and primitive lengths), and
 * the host checks again after the copy.
 */
export function sandboxBootstrap(L: SandboxLimits): void {
  const g = globalThis as typeof globalThis & Partial<HostBridges> & Record<string, unknown>;
  const bridges = g as HostBridges;
  const hostCall = bridges.__hostCall, hostLog = bridges.__hostLog, hostSleep = bridges.__hostSleep, hostClear = bridges.__hostClear, hostUuid = bridges.__hostUuid;
  for (const k of ['__hostCall', '__hostLog', '__hostSleep', '__hostClear', '__hostUuid']) delete g[k];

  // Primordials: the checks below run after user code, which may replace any global or
  // prototype method; every bound is enforced with these captured originals and primitives.
  // (Methods are captured unbound on purpose: uncurry calls them with an explicit receiver.)
  /* eslint-disable @typescript-eslint/unbound-method */
  const ReflectApply = Reflect.apply, ObjectDefineProperty = Object.defineProperty, ObjectFreeze = Object.freeze;
  const ObjectGetPrototypeOf = Object.getPrototypeOf, ObjectSetPrototypeOf = Object.setPrototypeOf;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const uncurry =
    <T, A extends unknown[], R>(fn: (this: T, ...args: A) => R) =>
    (self: unknown, ...args: A): R =>
      ReflectApply(fn, self, args) as R;
  /** The getter of an accessor property, captured now. */
  const getter = <T>(proto: object, key: string) => ObjectGetOwnPropertyDescriptor(proto, key)!.get as (this: unknown) => T;
  const StringC = String, NumberC = Number, MathMax = Math.max, MathTrunc = Math.trunc;
  const ErrorC = Error, RangeErrorC = RangeError, TypeErrorC = TypeError, MapC = Map;
  const JSONStringify = JSON.stringify;
  const StringSlice = uncurry(String.prototype.slice), StringCharCodeAt = uncurry(String.prototype.charCodeAt);
  const StringFromCharCode = String.fromCharCode, StringIndexOf = uncurry(String.prototype.indexOf);
  const StringSplit = uncurry(String.prototype.split as (this: string, separator: string) => string[]);
  const ArrayJoin = uncurry(Array.prototype.join), ArrayPush = uncurry(Array.prototype.push);
  const MapGet = uncurry(Map.prototype.get as (this: Map<unknown, unknown>, key: unknown) => unknown), MapSet = uncurry(Map.prototype.set), MapDelete = uncurry(Map.prototype.delete);
  const MapSize = uncurry(getter<number>(Map.prototype, 'size'));
  const PromiseThen = uncurry(Promise.prototype.then as (this: Promise<unknown>, ok: (v: unknown) => void, fail: () => void) => Promise<void>);
  const U8 = Uint8Array;
  const TypedArrayProto = ObjectGetPrototypeOf(Uint8Array.prototype) as Uint8Array;
  const TypedByteLength = uncurry(getter<number>(TypedArrayProto, 'byteLength'));
  const TypedSet = uncurry(TypedArrayProto.set);
  const U8Buffer = uncurry(getter<ArrayBuffer>(TypedArrayProto, 'buffer'));
  const TypedByteOffset = uncurry(getter<number>(TypedArrayProto, 'byteOffset'));
  const DVProto = DataView.prototype;
  const DVBuffer = uncurry(getter<ArrayBuffer>(DVProto, 'buffer'));
  const DVByteOffset = uncurry(getter<number>(DVProto, 'byteOffset'));
  const DVByteLength = uncurry(getter<number>(DVProto, 'byteLength'));
  const OrigArrayBuffer = ArrayBuffer;
  const ABByteLength = uncurry(getter<number>(OrigArrayBuffer.prototype, 'byteLength'));
  /* eslint-enable @typescript-eslint/unbound-method */

  // Memory outside the V8 heap. Plain ArrayBuffers and typed arrays are counted against the
  // isolate's memoryLimit by isolated-vm's allocator; these are not, so they are removed:
  // WebAssembly memories (also shared ones), resizable ArrayBuffers (resize) and growable
  // SharedArrayBuffers (grow). Their constructors and methods are unreachable afterwards:
  // no instance exists to walk a constructor chain from, and this context is the only realm.
  delete g.WebAssembly;
  delete (OrigArrayBuffer.prototype as Partial<ArrayBuffer>).resize;
  if (typeof SharedArrayBuffer === 'function') delete (SharedArrayBuffer.prototype as Partial<SharedArrayBuffer>).grow;
  delete (g as Partial<typeof globalThis>).SharedArrayBuffer;
  const noResizable = () => new RangeErrorC('Resizable and shared ArrayBuffers are not available in functions (memoryMb counts every buffer)');
  const SafeArrayBuffer = function ArrayBuffer(length?: unknown, options?: unknown): ArrayBuffer {
    if (new.target === undefined) throw new TypeErrorC("Constructor ArrayBuffer requires 'new'");
    if (options !== undefined && options !== null && (typeof options === 'object' || typeof options === 'function')) {
      if ((options as { maxByteLength?: unknown }).maxByteLength !== undefined) throw noResizable();
    }
    const n = length === undefined ? 0 : MathTrunc(NumberC(length));
    const buffer = new OrigArrayBuffer(n !== n ? 0 : n); // only a primitive reaches the original
    if (new.target !== SafeArrayBuffer) ObjectSetPrototypeOf(buffer, (new.target as { prototype: object }).prototype);
    return buffer;
  };
  for (const key of Reflect.ownKeys(OrigArrayBuffer)) {
    if (key === 'length' || key === 'name') continue;
    ObjectDefineProperty(SafeArrayBuffer, key, ObjectGetOwnPropertyDescriptor(OrigArrayBuffer, key)!);
  }
  ObjectDefineProperty(OrigArrayBuffer.prototype, 'constructor', { value: SafeArrayBuffer, writable: true, configurable: true, enumerable: false });

  const clip = (s: string, max: number) => (s.length > max ? StringSlice(s, 0, max) + '…' : s);
  const text = (v: unknown, max: number) => {
    try {
      const s = typeof v === 'string' ? v : StringC(v);
      return typeof s === 'string' ? clip(s, max) : '';
    } catch {
      return '[unprintable]';
    }
  };

  // Logs: a per-run budget (set by __invoke) stops lines in here, before they cross.
  let logBudget = 0,
    logsCut = false;
  const show = (v: unknown): unknown => {
    if (typeof v === 'string') return v;
    try {
      if (v instanceof ErrorC) return typeof v.stack === 'string' ? v.stack : StringC(v);
      const s = JSONStringify(v) as string | undefined;
      return s === undefined ? StringC(v) : s;
    } catch {
      try {
        return StringC(v);
      } catch {
        return '[unprintable]';
      }
    }
  };
  const log = (level: Level, args: unknown[]) => {
    if (logsCut) return;
    let line = '';
    for (let i = 0; i < args.length && line.length <= L.maxLogLine; i++) {
      const part = show(args[i]);
      line += (i ? ' ' : '') + (typeof part === 'string' ? clip(part, L.maxLogLine) : '');
    }
    if (typeof line !== 'string') return;
    line = clip(line, L.maxLogLine);
    logBudget -= line.length + 16;
    if (logBudget < 0) {
      logsCut = true;
      hostLog('cut', '');
      return;
    }
    hostLog(level, line);
  };

  // ctx calls: arguments cross as one bounded JSON string plus at most one byte copy of
  // exactly the bytes sent (a view never drags its whole buffer along).
  let pendingCalls = 0,
    inflightBytes = 0;
  const failure = (code: string, message: string, status?: number) => {
    const err: SandboxError = new ErrorC(message);
    err.code = code;
    if (status) err.status = status;
    return err;
  };
  const isArrayBuffer = (v: unknown) => {
    try {
      ABByteLength(v);
      return true;
    } catch {
      return false;
    }
  };
  /** [buffer, offset, length] of a view, read with the original getters; null for anything else. */
  const viewParts = (v: unknown): [ArrayBuffer, number, number] | null => {
    try {
      return [U8Buffer(v), TypedByteOffset(v), TypedByteLength(v)];
    } catch {
      /* not a typed array */
    }
    try {
      return [DVBuffer(v), DVByteOffset(v), DVByteLength(v)];
    } catch {
      /* not a DataView */
    }
    return null;
  };
  const bytesView = (data: unknown): Uint8Array | null => {
    if (isArrayBuffer(data)) return new U8(data as ArrayBuffer);
    const parts = viewParts(data);
    return parts ? new U8(parts[0], parts[1], parts[2]) : null;
  };
  /** A fresh ArrayBuffer of exactly the bytes to send (a view never drags its whole buffer along). */
  const bytesOf = (data: unknown, what: string, max: number): ArrayBuffer => {
    const view = typeof data === 'string' ? encodeUtf8(data) : bytesView(data);
    if (!view) throw failure('INVALID_ARGUMENT', what + ' must be a string, an ArrayBuffer or a typed array');
    const n = TypedByteLength(view);
    if (n > max) throw failure('PAYLOAD_TOO_LARGE', what + ' is larger than ' + max + ' bytes');
    const copy = new U8(n);
    TypedSet(copy, view);
    return U8Buffer(copy);
  };
  async function call(method: string, args: unknown[], body?: ArrayBuffer): Promise<unknown> {
    const json = JSONStringify(args) as string | undefined;
    if (typeof json !== 'string' || json.length > L.maxArgsChars) {
      throw failure('PAYLOAD_TOO_LARGE', 'ctx ' + method + ': the arguments are larger than ' + L.maxArgsChars + ' characters of JSON');
    }
    const size = body === undefined ? 0 : ABByteLength(body);
    if (pendingCalls >= L.maxPendingCalls) throw failure('TOO_MANY_CALLS', 'At most ' + L.maxPendingCalls + ' ctx calls at once per run');
    if (inflightBytes + size > L.maxInflightBytes) throw failure('PAYLOAD_TOO_LARGE', 'At most ' + L.maxInflightBytes + ' bytes of ctx call bodies at once per run');
    pendingCalls++;
    inflightBytes += size;
    let r: CallAnswer | undefined;
    try {
      r = (await hostCall.apply(undefined, [method, json, body], { arguments: { copy: true }, result: { promise: true, copy: true } })) as CallAnswer | undefined;
    } catch {
      r = { ok: false, error: { code: 'CTX_FAILED', message: 'ctx call ' + method + ' failed' } };
    } finally {
      pendingCalls--;
      inflightBytes -= size;
    }
    if (r && r.ok) return r.value;
    const e = r && r.error ? r.error : { code: 'CTX_FAILED', message: 'ctx call ' + method + ' failed', status: undefined };
    throw failure(e.code, e.message, e.status);
  }

  // UTF-8 and base64 inside the isolate: nothing the function encodes crosses into the host.
  function encodeUtf8(input: unknown): Uint8Array {
    const s = StringC(input);
    const n = s.length;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const c = StringCharCodeAt(s, i);
      if (c < 0x80) size += 1;
      else if (c < 0x800) size += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (StringCharCodeAt(s, i + 1) & 0xfc00) === 0xdc00) {
        size += 4;
        i++;
      } else size += 3;
    }
    const out = new U8(size);
    let p = 0;
    for (let i = 0; i < n; i++) {
      let c = StringCharCodeAt(s, i);
      if (c < 0x80) {
        out[p++] = c;
        continue;
      }
      if (c < 0x800) {
        out[p++] = 0xc0 | (c >> 6);
        out[p++] = 0x80 | (c & 63);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? StringCharCodeAt(s, i + 1) : 0;
        if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 63);
          out[p++] = 0x80 | ((c >> 6) & 63);
          out[p++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd; // a lone surrogate
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 63);
      out[p++] = 0x80 | (c & 63);
    }
    return out;
  }
  function decodeUtf8(input: unknown): string {
    const b = bytesView(input);
    if (!b) throw new TypeErrorC('TextDecoder.decode needs an ArrayBuffer or a typed array');
    const n = b.length;
    let out = '',
      chunk: number[] = [];
    const flush = () => {
      out += ReflectApply(StringFromCharCode, undefined, chunk);
      chunk = [];
    };
    for (let i = 0; i < n; ) {
      const c = b[i]!;
      let cp = 0xfffd,
        len = 1;
      if (c < 0x80) cp = c;
      else if (c >= 0xc2 && c <= 0xdf && i + 1 < n && (b[i + 1]! & 0xc0) === 0x80) {
        cp = ((c & 31) << 6) | (b[i + 1]! & 63);
        len = 2;
      } else if (c >= 0xe0 && c <= 0xef && i + 2 < n && (b[i + 1]! & 0xc0) === 0x80 && (b[i + 2]! & 0xc0) === 0x80) {
        const v = ((c & 15) << 12) | ((b[i + 1]! & 63) << 6) | (b[i + 2]! & 63);
        if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) {
          cp = v;
          len = 3;
        }
      } else if (c >= 0xf0 && c <= 0xf4 && i + 3 < n && (b[i + 1]! & 0xc0) === 0x80 && (b[i + 2]! & 0xc0) === 0x80 && (b[i + 3]! & 0xc0) === 0x80) {
        const v = ((c & 7) << 18) | ((b[i + 1]! & 63) << 12) | ((b[i + 2]! & 63) << 6) | (b[i + 3]! & 63);
        if (v >= 0x10000 && v <= 0x10ffff) {
          cp = v;
          len = 4;
        }
      }
      i += len;
      if (cp > 0xffff) {
        cp -= 0x10000;
        chunk[chunk.length] = 0xd800 + (cp >> 10);
        chunk[chunk.length] = 0xdc00 + (cp & 1023);
      } else chunk[chunk.length] = cp;
      if (chunk.length >= 8192) flush();
    }
    flush();
    return out;
  }
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64INDEX = new MapC<string, number>();
  const B64CODES: number[] = [];
  for (let i = 0; i < 64; i++) {
    MapSet(B64INDEX, B64[i]!, i);
    B64CODES[i] = StringCharCodeAt(B64, i);
  }
  const invalidChar = (what: string) => {
    const e = new ErrorC(what);
    e.name = 'InvalidCharacterError';
    return e;
  };
  function btoa(input: unknown): string {
    const s = StringC(input);
    let out = '',
      chunk: number[] = [];
    for (let i = 0; i < s.length; i += 3) {
      const a = StringCharCodeAt(s, i),
        b = i + 1 < s.length ? StringCharCodeAt(s, i + 1) : -1,
        c = i + 2 < s.length ? StringCharCodeAt(s, i + 2) : -1;
      if (a > 255 || b > 255 || c > 255) throw invalidChar('btoa: the string has characters outside of Latin1');
      const x = (a << 16) | ((b < 0 ? 0 : b) << 8) | (c < 0 ? 0 : c);
      chunk[chunk.length] = B64CODES[(x >> 18) & 63]!;
      chunk[chunk.length] = B64CODES[(x >> 12) & 63]!;
      chunk[chunk.length] = b < 0 ? 61 : B64CODES[(x >> 6) & 63]!;
      chunk[chunk.length] = c < 0 ? 61 : B64CODES[x & 63]!;
      if (chunk.length >= 8192) {
        out += ReflectApply(StringFromCharCode, undefined, chunk);
        chunk = [];
      }
    }
    return out + ReflectApply(StringFromCharCode, undefined, chunk);
  }
  function atob(input: unknown): string {
    let s = '';
    const raw = StringC(input);
    for (let i = 0; i < raw.length; i++) {
      const ch = raw[i];
      if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\f' && ch !== '\r') s += ch;
    }
    if (s.length % 4 === 0 && s.length) {
      if (s[s.length - 1] === '=') s = StringSlice(s, 0, s[s.length - 2] === '=' ? -2 : -1);
    }
    if (s.length % 4 === 1) throw invalidChar('atob: the string is not valid base64');
    let out = '',
      chunk: number[] = [];
    let bits = 0,
      acc = 0;
    for (let i = 0; i < s.length; i++) {
      const v = MapGet(B64INDEX, s[i]!) as number | undefined;
      if (v === undefined) throw invalidChar('atob: the string is not valid base64');
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        chunk[chunk.length] = (acc >> bits) & 255;
      }
      if (chunk.length >= 8192) {
        out += ReflectApply(StringFromCharCode, undefined, chunk);
        chunk = [];
      }
    }
    return out + ReflectApply(StringFromCharCode, undefined, chunk);
  }

  type HeadersInit = Headers | [unknown, unknown][] | Record<string, unknown> | null | undefined;
  class Headers {
    #m = new Map<string, string>();
    constructor(init?: HeadersInit) {
      if (init instanceof Headers) init = [...init.entries()];
      if (Array.isArray(init)) for (const [k, v] of init) this.append(k, v);
      else if (init && typeof init === 'object') for (const k of Object.keys(init)) this.append(k, init[k]);
    }
    append(k: unknown, v: unknown) {
      k = String(k).toLowerCase();
      const old = this.#m.get(k as string);
      this.#m.set(k as string, old === undefined ? String(v) : old + ', ' + (v as string));
    }
    set(k: unknown, v: unknown) {
      this.#m.set(String(k).toLowerCase(), String(v));
    }
    get(k: unknown) {
      const v = this.#m.get(String(k).toLowerCase());
      return v === undefined ? null : v;
    }
    has(k: unknown) {
      return this.#m.has(String(k).toLowerCase());
    }
    delete(k: unknown) {
      this.#m.delete(String(k).toLowerCase());
    }
    entries() {
      return this.#m.entries();
    }
    keys() {
      return this.#m.keys();
    }
    values() {
      return this.#m.values();
    }
    forEach(fn: (value: string, key: string, headers: Headers) => void) {
      for (const [k, v] of this.#m) fn(v, k, this);
    }
    [Symbol.iterator]() {
      return this.#m.entries();
    }
    toJSON() {
      return Object.fromEntries(this.#m);
    }
  }

  class Response {
    #bytes: Uint8Array;
    declare status: number;
    declare statusText: string;
    declare ok: boolean;
    declare url: string;
    declare redirected: boolean;
    declare headers: Headers;
    declare bodyUsed: boolean;
    constructor(r: FetchAnswer) {
      this.status = r.status;
      this.statusText = r.statusText;
      this.ok = r.status >= 200 && r.status < 300;
      this.url = r.url;
      this.redirected = r.redirected;
      this.headers = new Headers(r.headers);
      this.#bytes = r.body;
      this.bodyUsed = false;
    }
    async arrayBuffer() {
      this.bodyUsed = true;
      return this.#bytes.buffer.slice(this.#bytes.byteOffset, this.#bytes.byteOffset + this.#bytes.byteLength);
    }
    async bytes() {
      this.bodyUsed = true;
      return new Uint8Array(this.#bytes);
    }
    async text() {
      this.bodyUsed = true;
      return decodeUtf8(this.#bytes);
    }
    async json(): Promise<unknown> {
      return JSON.parse(await this.text());
    }
  }

  interface FetchInit {
    method?: unknown;
    headers?: HeadersInit;
    body?: unknown;
    redirect?: unknown;
  }
  /**
   * The only way out to the network: the worker refuses loopback, private and link-local
   * targets. A body is bounded here, and the worker checks the address before it is sent.
   */
  async function fetch(input: unknown, init: FetchInit = {}) {
    const url = typeof input === 'string' ? input : input && typeof (input as { url?: unknown }).url === 'string' ? (input as { url: string }).url : StringC(input);
    let body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !isArrayBuffer(body) && !viewParts(body)) {
      body = JSONStringify(body);
    }
    const bytes = body === undefined || body === null ? undefined : bytesOf(body, 'The fetch body', L.maxFetchBodyBytes);
    const headers = init.headers ? Object.fromEntries(new Headers(init.headers).entries()) : {};
    if (bytes !== undefined) await call('fetch.check', [url]);
    const r = await call('fetch', [url, { method: init.method ? StringC(init.method).toUpperCase() : 'GET', headers, redirect: init.redirect || 'follow' }], bytes);
    return new Response(r as FetchAnswer);
  }

  // Timers: at most maxTimers pending per run, each one host timer; clearTimeout clears the
  // host timer too, so the isolate's count and the host's are the same.
  const timers = new MapC<unknown, boolean>();
  let nextTimer = 1;
  const setTimeout = (fn: unknown, ms?: unknown, ...args: unknown[]) => {
    if (MapSize(timers) >= L.maxTimers) throw new RangeErrorC('At most ' + L.maxTimers + ' pending timers per run');
    const delay = MathMax(0, NumberC(ms) || 0);
    const id = nextTimer++;
    MapSet(timers, id, true);
    void PromiseThen(
      hostSleep.apply(undefined, [delay, id], { result: { promise: true } }),
      (due) => {
        if (MapDelete(timers, id) && due === true && typeof fn === 'function') (fn as (...a: unknown[]) => unknown)(...args);
      },
      () => {
        MapDelete(timers, id);
      },
    );
    return id;
  };
  const clearTimeout = (id: unknown) => {
    if (MapDelete(timers, id)) hostClear(id as number);
  };

  const console = {
    log: (...a: unknown[]) => log('log', a),
    info: (...a: unknown[]) => log('info', a),
    warn: (...a: unknown[]) => log('warn', a),
    error: (...a: unknown[]) => log('error', a),
    debug: (...a: unknown[]) => log('debug', a),
  };

  const require = (name: unknown) => {
    throw new ErrorC("Cannot import '" + text(name, 200) + "': functions have no Node modules (use ctx.db, ctx.storage, ctx.email and fetch)");
  };

  class TextEncoder {
    get encoding() {
      return 'utf-8';
    }
    encode(s: unknown = '') {
      return encodeUtf8(s);
    }
  }
  class TextDecoder {
    get encoding() {
      return 'utf-8';
    }
    decode(b?: unknown) {
      return b === undefined ? '' : decodeUtf8(b);
    }
  }

  const define = (name: string, value: unknown) => {
    // A function's `name` is its global's name whatever a compiler renamed it to (a bundler
    // may rename a local `setTimeout` to `setTimeout2`); the descriptor is the usual one.
    if (typeof value === 'function') ObjectDefineProperty(value, 'name', { value: name, writable: false, enumerable: false, configurable: true });
    ObjectDefineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  };
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

  const collection = (name: unknown) =>
    ObjectFreeze({
      create: (data: unknown) => call('db.create', [name, data]),
      get: (id: unknown, options?: unknown) => call('db.get', options === undefined ? [name, id] : [name, id, options]),
      list: (query: unknown = {}) => call('db.list', [name, query]),
      update: (id: unknown, patch: unknown) => call('db.update', [name, id, patch]),
      delete: (id: unknown) => call('db.delete', [name, id]),
    });
  const storage = ObjectFreeze({
    upload: (bucket: unknown, key: unknown, data: unknown, options: unknown = {}) => {
      const bytes = bytesOf(data, 'The upload', L.maxUploadBytes);
      return call('storage.upload', [bucket, key, options], bytes);
    },
    get: (fileId: unknown) => call('storage.get', [fileId]),
    download: async (fileId: unknown) => {
      const r = (await call('storage.download', [fileId])) as { data: unknown } | null;
      return r === null ? null : { ...r, text: () => decodeUtf8(r.data) };
    },
    delete: (fileId: unknown) => call('storage.delete', [fileId]),
    list: (bucket: unknown, query: unknown = {}) => call('storage.list', [bucket, query]),
  });
  const email = ObjectFreeze({ send: (message: unknown) => call('email.send', [message]) });
  const auth = ObjectFreeze({
    get: (userId: unknown) => call('auth.get', [userId]),
    findByEmail: (email: unknown) => call('auth.findByEmail', [email]),
    list: (query: unknown = {}) => call('auth.list', [query]),
    create: (user: unknown) => call('auth.create', [user]),
    update: (userId: unknown, changes: unknown) => call('auth.update', [userId, changes]),
    disable: (userId: unknown) => call('auth.update', [userId, { disabled: true }]),
    enable: (userId: unknown) => call('auth.update', [userId, { disabled: false }]),
  });

  // Stack frames of the function's own code only (and the message line).
  const userStack = (stack: string) => {
    const lines = StringSplit(clip(stack, L.maxErrorStack * 2), '\n');
    const kept: string[] = [];
    for (let i = 0; i < lines.length && kept.length < 21; i++) {
      const l = lines[i]!;
      if (StringIndexOf(l, '<isolated-vm boundary>') !== -1) break;
      const frame = /^\s+at /.test(l);
      if (!frame || StringIndexOf(l, 'file:///function.js') !== -1 || (StringIndexOf(l, '/') === -1 && StringIndexOf(l, 'node:') === -1)) ArrayPush(kept, l);
    }
    return clip(ArrayJoin(kept, '\n'), L.maxErrorStack);
  };
  // A thrown value, read with bounded copies of its parts; nothing of it is thrown onwards.
  const errorRecord = (err: unknown) => {
    let name = 'Error',
      message: string,
      stack: string | undefined,
      code: string | undefined;
    try {
      if (err !== null && (typeof err === 'object' || typeof err === 'function')) {
        const e = err as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
        const n = e.name,
          m = e.message,
          s = e.stack,
          c = e.code;
        if (typeof n === 'string') name = clip(n, 100);
        message = typeof m === 'string' ? clip(m, L.maxErrorMessage) : text(err, L.maxErrorMessage);
        if (typeof s === 'string') stack = userStack(s);
        if (typeof c === 'string') code = clip(c, 100);
      } else message = text(err, L.maxErrorMessage);
    } catch {
      message = 'The function threw a value that cannot be read';
    }
    return { name, message, stack, code };
  };
  const packError = (err: unknown, code?: string) => {
    try {
      const r = errorRecord(err);
      const s = JSONStringify({ name: r.name, message: r.message, stack: r.stack, code: code || r.code, bootstrap: !!code }) as string | undefined;
      if (typeof s === 'string' && s.length <= L.maxErrorMessage + L.maxErrorStack + 1024) return 'E' + s;
    } catch {
      /* answered below */
    }
    return 'E{"name":"Error","message":"The function threw a value that cannot be read"}';
  };

  let invoked = false;
  define('__invoke', async (factory: () => ModuleExports, event: unknown, env: object, logLimit: unknown) => {
    if (invoked) return packError(new ErrorC('__invoke runs once'), 'SANDBOX_ERROR');
    invoked = true;
    logBudget = NumberC(logLimit) || 0;
    try {
      const moduleExports = factory();
      const handler = (
        moduleExports && typeof (moduleExports as { default?: unknown }).default === 'function'
          ? (moduleExports as { default: unknown }).default
          : typeof moduleExports === 'function'
            ? moduleExports
            : null
      ) as Handler | null;
      if (!handler) {
        return packError(new ErrorC('The function has no default export: write export default async (event, ctx) => { ... }'), 'NO_HANDLER');
      }
      const ctx = ObjectFreeze({
        log: (...a: unknown[]) => log('log', a),
        env: ObjectFreeze(env),
        db: ObjectFreeze({ collection }),
        storage,
        email,
        auth,
        fetch,
      });
      const result = await handler(event, ctx);
      if (result === undefined) return 'U';
      let json: unknown;
      try {
        json = JSONStringify(result);
      } catch (e) {
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
}
