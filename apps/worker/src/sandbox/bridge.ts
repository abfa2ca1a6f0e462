import http from 'node:http';
import https from 'node:https';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { checkTarget, FetchRefused, guardedFetch, type GuardedRequest } from './net-guard.js';
import { SANDBOX_LIMITS } from './protocol.js';

/** An error a function sees from a ctx call (code, message, HTTP status when the api answered). */
export class BridgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const API_TIMEOUT_MS = 30_000;

/** Kept-alive connections to the api for ctx calls (one pool per worker process). */
const HTTP_AGENT = new http.Agent({ keepAlive: true, maxSockets: 128 });
const HTTPS_AGENT = new https.Agent({ keepAlive: true, maxSockets: 128 });

/** What every api request of one ctx call needs: its time budget and the run's token. */
interface ApiCall {
  timeoutMs: number;
  runToken: string;
}
const { maxUploadBytes: MAX_UPLOAD_BYTES, maxDownloadBytes: MAX_DOWNLOAD_BYTES, maxApiResponseBytes: MAX_API_RESPONSE_BYTES } = SANDBOX_LIMITS;

/**
 * What `ctx` does for functions, in the worker (the sandbox hosts hold no credentials).
 * db, storage, email and auth go through the platform's own api (API_INTERNAL_URL) with the
 * run's short-lived token (x-run-token: the function's identity, or its caller's), never the
 * service key, so permissions, validation and outbox events are exactly the api's
 * (docs/functions.md, Run tokens); fetch goes through the network guard.
 * Every argument comes from untrusted code and is checked here.
 */
@Injectable()
export class SandboxBridge {
  /** The address policy of fetch; tests let one loopback test server through (never set in production). */
  isBlocked?: (address: string) => boolean;
  /**
   * The credential headers of api requests instead of `x-run-token`: only for `selfbaas run`
   * (packages/cli), which runs a function on a developer's machine without the server's
   * secret to mint run tokens and acts with the API key it was given. Never set in the worker.
   */
  credentials?: (runToken: string) => Record<string, string>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async handle(method: string, args: unknown[], body: Uint8Array | undefined, remainingMs: number, runToken: string): Promise<unknown> {
    const timeoutMs = Math.max(1, Math.min(remainingMs, API_TIMEOUT_MS));
    const call: ApiCall = { timeoutMs, runToken };
    switch (method) {
      case 'fetch':
        return this.fetch(args, body, timeoutMs);
      case 'fetch.check':
        return this.fetchCheck(args, timeoutMs);
      case 'db.create':
        return this.api('POST', `/collections/${seg(args[0], 'collection')}/documents`, call, { json: obj(args[1], 'data') });
      case 'db.get':
        return this.api('GET', `/collections/${seg(args[0], 'collection')}/documents/${seg(args[1], 'id')}${queryOf(args[2], READ_OPTIONS, 'get')}`, call, {
          nullOn404: true,
        });
      case 'db.list':
        return this.api('GET', `/collections/${seg(args[0], 'collection')}/documents${queryOf(args[1], LIST_OPTIONS, 'list')}`, call);
      case 'db.update':
        return this.api('PATCH', `/collections/${seg(args[0], 'collection')}/documents/${seg(args[1], 'id')}`, call, {
          json: obj(args[2], 'patch'),
        });
      case 'db.delete':
        return (
          (await this.api('DELETE', `/collections/${seg(args[0], 'collection')}/documents/${seg(args[1], 'id')}`, call, {
            nullOn404: true,
          })) !== null
        );
      case 'storage.upload':
        return this.upload(args, body, call);
      case 'storage.get':
        return this.api('GET', `/storage/files/${seg(args[0], 'fileId')}`, call, { nullOn404: true });
      case 'storage.download':
        return this.download(args, call);
      case 'storage.delete':
        return (await this.api('DELETE', `/storage/files/${seg(args[0], 'fileId')}`, call, { nullOn404: true })) !== null;
      case 'storage.list': {
        const q = args[1] === undefined ? {} : obj(args[1], 'query');
        const params = new URLSearchParams();
        for (const key of ['prefix', 'limit', 'cursor']) {
          const v = q[key];
          if (typeof v === 'string' || typeof v === 'number') params.set(key, String(v));
        }
        const qs = params.size ? `?${params.toString()}` : '';
        return this.api('GET', `/storage/buckets/${seg(args[0], 'bucket')}/files${qs}`, call);
      }
      case 'auth.get':
        return this.api('GET', `/admin/users/${seg(args[0], 'userId')}`, call, { nullOn404: true });
      case 'auth.findByEmail':
        return this.findUserByEmail(args[0], call);
      case 'auth.list':
        return this.api('GET', `/admin/users${queryOf(args[0], ['search', 'limit', 'cursor'], 'auth.list')}`, call);
      case 'auth.create':
        return this.api('POST', '/admin/users', call, { json: obj(args[0], 'user') });
      case 'auth.update':
        return this.api('PATCH', `/admin/users/${seg(args[0], 'userId')}`, call, { json: obj(args[1], 'changes'), nullOn404: true });
      case 'email.send':
        return this.api('POST', '/email/send', call, { json: obj(args[0], 'message') });
      default:
        throw new BridgeError('UNKNOWN_METHOD', `ctx has no ${String(method).slice(0, 50)}`);
    }
  }

  private async fetch(args: unknown[], body: Uint8Array | undefined, timeoutMs: number): Promise<unknown> {
    if (typeof args[0] !== 'string') throw new BridgeError('INVALID_ARGUMENT', 'fetch needs a URL string');
    if (body && body.byteLength > SANDBOX_LIMITS.maxFetchBodyBytes) {
      throw new BridgeError('PAYLOAD_TOO_LARGE', `A fetch body is limited to ${SANDBOX_LIMITS.maxFetchBodyBytes} bytes`);
    }
    const init = args[1] === undefined || args[1] === null ? {} : obj(args[1], 'init');
    const request: GuardedRequest = {
      method: typeof init.method === 'string' ? init.method : 'GET',
      headers: stringRecord(init.headers),
      body,
      redirect: init.redirect === 'manual' || init.redirect === 'error' ? init.redirect : 'follow',
    };
    return refusedAsBridgeError(() => guardedFetch(args[0] as string, request, { timeoutMs, maxBodyBytes: SANDBOX_LIMITS.maxFetchResponseBytes, isBlocked: this.isBlocked }));
  }

  /** The address check a fetch with a body asks for before its body leaves the sandbox host. */
  private async fetchCheck(args: unknown[], timeoutMs: number): Promise<unknown> {
    if (typeof args[0] !== 'string') throw new BridgeError('INVALID_ARGUMENT', 'fetch needs a URL string');
    await refusedAsBridgeError(() => checkTarget(args[0] as string, { timeoutMs, isBlocked: this.isBlocked }));
    return true;
  }

  private async upload(args: unknown[], data: Uint8Array | undefined, call: ApiCall): Promise<unknown> {
    const bucket = seg(args[0], 'bucket');
    if (typeof args[1] !== 'string' || args[1].length === 0) throw new BridgeError('INVALID_ARGUMENT', 'upload needs a key');
    if (!(data instanceof Uint8Array)) throw new BridgeError('INVALID_ARGUMENT', 'upload needs a string or Uint8Array body');
    if (data.byteLength > MAX_UPLOAD_BYTES) throw new BridgeError('PAYLOAD_TOO_LARGE', `Uploads from functions are limited to ${MAX_UPLOAD_BYTES} bytes`);
    const options = args[2] === undefined || args[2] === null ? {} : obj(args[2], 'options');
    const contentType = typeof options.contentType === 'string' ? options.contentType : 'application/octet-stream';
    const form = new FormData();
    form.set('key', args[1]);
    const name = args[1].split('/').pop() || 'file';
    form.set('file', new Blob([new Uint8Array(data)], { type: contentType }), name);
    return this.api('POST', `/storage/buckets/${bucket}/files`, call, { form });
  }

  private async download(args: unknown[], call: ApiCall): Promise<unknown> {
    const id = seg(args[0], 'fileId');
    const file = await this.api('GET', `/storage/files/${id}`, call, { nullOn404: true });
    if (file === null) return null;
    const size = (file as { size?: unknown }).size; // the api's file shape
    if (typeof size === 'number' && size > MAX_DOWNLOAD_BYTES) throw tooLarge(`ctx.storage.download is limited to files of ${MAX_DOWNLOAD_BYTES} bytes (this one has ${size})`);
    const response = await this.send('GET', `/storage/files/${id}/content`, call, {});
    if (!response.ok) throw await apiError(response);
    const data = await readCapped(response, MAX_DOWNLOAD_BYTES, `ctx.storage.download is limited to files of ${MAX_DOWNLOAD_BYTES} bytes`);
    return { file, contentType: response.headers.get('content-type') ?? 'application/octet-stream', data };
  }

  /** The user with exactly this email (case-insensitive), or null. */
  private async findUserByEmail(value: unknown, call: ApiCall): Promise<unknown> {
    if (typeof value !== 'string' || value.length === 0 || value.length > 254) throw new BridgeError('INVALID_ARGUMENT', 'email must be a non-empty string');
    const email = value.trim().toLowerCase();
    const page = (await this.api('GET', `/admin/users?${new URLSearchParams({ search: email, limit: '100' }).toString()}`, call)) as {
      items?: { email?: unknown }[];
    } | null; // the admin list's answer
    return page?.items?.find((u) => typeof u.email === 'string' && u.email.toLowerCase() === email) ?? null;
  }

  private async api(
    method: string,
    path: string,
    call: ApiCall,
    options: { json?: unknown; form?: FormData; nullOn404?: boolean } = {},
  ): Promise<unknown> {
    // Uploads (a multipart form) go through fetch; every other ctx call is small JSON, over a
    // kept-alive node:http connection (a fraction of fetch's CPU per call: bench/profile-functions.mjs).
    const { status, text } = options.form
      ? await this.send(method, path, call, options).then(async (r) => ({ status: r.status, text: await readText(r) }))
      : await this.request(method, path, call, options.json);
    if (status === 404 && options.nullOn404) return null;
    if (status < 200 || status > 299) throw apiErrorOf(status, text);
    if (status === 204) return true;
    return text ? (JSON.parse(text) as unknown) : null;
  }

  /** One JSON request to the api with the run's token; the answer's status and text (at most MAX_API_RESPONSE_BYTES). */
  private request(method: string, path: string, call: ApiCall, json: unknown): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = this.credentials ? this.credentials(call.runToken) : { 'x-run-token': call.runToken };
    const body = json === undefined ? undefined : JSON.stringify(json);
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const url = new URL(`${this.config.API_INTERNAL_URL}/v1${path}`);
    const signal = AbortSignal.timeout(call.timeoutMs);
    return new Promise((resolve, reject) => {
      const unavailable = () =>
        reject(new BridgeError('PLATFORM_UNAVAILABLE', `ctx call ${signal.aborted ? 'timed out' : 'could not reach the api'} (API_INTERNAL_URL)`));
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request(url, { method, headers, agent: url.protocol === 'https:' ? HTTPS_AGENT : HTTP_AGENT, signal }, (res) => {
        const tooBig = () => {
          res.destroy();
          reject(tooLarge(`The answer to a ctx call is limited to ${MAX_API_RESPONSE_BYTES} bytes`));
        };
        if (Number(res.headers['content-length']) > MAX_API_RESPONSE_BYTES) return tooBig();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_API_RESPONSE_BYTES) return tooBig();
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks, size).toString('utf8') }));
        res.on('error', unavailable);
      });
      req.on('error', unavailable);
      req.end(body);
    });
  }

  /** One request to the api, with the run's token (never the service key). */
  private async send(
    method: string,
    path: string,
    call: ApiCall,
    options: { json?: unknown; form?: FormData },
  ): Promise<Response> {
    const headers: Record<string, string> = this.credentials ? this.credentials(call.runToken) : { 'x-run-token': call.runToken };
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = options.form;
    }
    try {
      return await fetch(`${this.config.API_INTERNAL_URL}/v1${path}`, { method, headers, body, signal: AbortSignal.timeout(call.timeoutMs) });
    } catch (err) {
      const reason = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'could not reach the api';
      throw new BridgeError('PLATFORM_UNAVAILABLE', `ctx call ${reason} (API_INTERNAL_URL)`);
    }
  }
}

function tooLarge(message: string): BridgeError {
  return new BridgeError('PAYLOAD_TOO_LARGE', message);
}

/** A response body, read as it streams and abandoned as soon as it passes `max` bytes. */
async function readCapped(response: Response, max: number, message: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(message);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader(); // fetch bodies stream Uint8Array chunks
  for (;;) {
    if (!reader) break;
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(message);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks, size));
}

async function refusedAsBridgeError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FetchRefused) throw new BridgeError(err.code, err.message);
    throw err;
  }
}

/** The body of an answer as text ('' when it cannot be read). */
async function readText(response: Response): Promise<string> {
  const bytes = await readCapped(response, MAX_API_RESPONSE_BYTES, `The answer to a ctx call is limited to ${MAX_API_RESPONSE_BYTES} bytes`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

async function apiError(response: Response): Promise<BridgeError> {
  return apiErrorOf(response.status, await readText(response).catch(() => ''));
}

/** The api's error answer as the error a function sees. */
function apiErrorOf(status: number, text: string): BridgeError {
  let body: { code?: unknown; message?: unknown; details?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body; // the api's error shape; fields checked below
  } catch {
    // not JSON: keep the status only
  }
  body ??= {};
  const code = typeof body.code === 'string' ? body.code : `HTTP_${status}`;
  let message = typeof body.message === 'string' ? body.message : `The api answered ${status}`;
  if (Array.isArray(body.details) && body.details.length) message += `: ${JSON.stringify(body.details).slice(0, 500)}`;
  return new BridgeError(code, message, status);
}

function seg(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 500) {
    throw new BridgeError('INVALID_ARGUMENT', `${what} must be a non-empty string`);
  }
  return encodeURIComponent(value);
}

function obj(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BridgeError('INVALID_ARGUMENT', `${what} must be an object`);
  }
  return value as Record<string, unknown>; // a plain object copied out of the isolate
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The options of `ctx.db.collection(c).get(id, options)` and `.list(options)`: the REST api's query parameters. */
const READ_OPTIONS = ['fields', 'expand'] as const;
const LIST_OPTIONS = ['filter', 'sort', 'limit', 'cursor', 'count', 'fields', 'expand'] as const;

/**
 * The query string of a get or list: each option as the REST api takes it (objects as JSON,
 * lists comma-separated). An unknown option is refused, so a typo does not silently list
 * everything; the api validates the values.
 */
function queryOf(value: unknown, known: readonly string[], what: string): string {
  if (value === undefined || value === null) return '';
  const q = obj(value, 'options');
  const params = new URLSearchParams();
  for (const [key, v] of Object.entries(q)) {
    if (!known.includes(key)) throw new BridgeError('INVALID_ARGUMENT', `ctx.db ${what}: unknown option "${key.slice(0, 50)}" (known: ${known.join(', ')})`);
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) params.set(key, v.map(String).join(','));
    else if (typeof v === 'object') params.set(key, JSON.stringify(v));
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') params.set(key, String(v));
  }
  return params.size ? `?${params.toString()}` : '';
}
