import { BaasError, type ErrorCode, type ErrorDetail, NetworkError } from './errors.js';

/** What fetch accepts as a request body (BodyInit, named without the DOM lib). */
export type Body = NonNullable<RequestInit['body']>;
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | undefined | null;

export interface RetryOptions {
  /** Extra attempts of a safe request (GET, HEAD) after a network error, a 429 or a 503. Default 2. */
  retries?: number;
  /** First backoff delay; doubled each attempt, with jitter. Default 300 ms. */
  baseDelayMs?: number;
  /** Longest wait, also for a Retry-After the server sends. Default 10 s. */
  maxDelayMs?: number;
}

export interface RequestOptions {
  method: HttpMethod;
  /** Path below the api's URL, e.g. `/v1/auth/me`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** A JSON value (sent as application/json) or a body fetch takes as it is (FormData, Blob, stream). */
  body?: unknown;
  /** true when `body` must be sent as it is (not as JSON). */
  rawBody?: boolean;
  headers?: Record<string, string>;
  /** `none`: never send the session's token (sign-in, refresh). Default `session`. */
  auth?: 'session' | 'none';
  signal?: AbortSignal;
}

/** Supplies the current access token, and a fresh one after a 401 (single-flight refresh). */
export interface TokenSource {
  accessToken(): Promise<string | undefined>;
  /** Called once after a 401 INVALID_TOKEN: refreshes, and tells whether a retry is worth it. */
  renew(rejected: string): Promise<boolean>;
}

export interface HttpConfig {
  url: string;
  apiKey?: string;
  fetch?: FetchLike;
  retry?: RetryOptions;
  headers?: Record<string, string>;
}

const SAFE: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD']);

/**
 * For request bodies that may be large (uploads). Without both, Node's fetch (undici) clones
 * the request for a possible redirect, which tees the body: the unread branch then keeps
 * every byte sent until the request ends (a 50 MB upload held 50 MB). Uploads never follow
 * redirects anyway.
 */
export const UPLOAD_INIT: Pick<RequestInit, 'redirect' | 'window'> = { redirect: 'error', window: null };

/** The HTTP layer every part of the client uses: credentials, JSON, errors, retries. */
export class Http {
  readonly url: string;
  private readonly fetchFn: FetchLike;
  private readonly retry: Required<RetryOptions>;
  tokens: TokenSource | undefined;

  constructor(private readonly config: HttpConfig) {
    this.url = config.url.replace(/\/+$/, '');
    if (!config.fetch && typeof globalThis.fetch !== 'function') {
      throw new Error('No fetch: pass createClient({ fetch }) on a runtime without a global fetch');
    }
    // Bound, so that a browser's window.fetch is not called with another `this`.
    this.fetchFn = config.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.retry = { retries: 2, baseDelayMs: 300, maxDelayMs: 10_000, ...config.retry };
  }

  get hasApiKey(): boolean {
    return this.config.apiKey !== undefined;
  }

  /** The service key this client sends, if any (realtime sends it in its auth frame). */
  get apiKey(): string | undefined {
    return this.config.apiKey;
  }

  buildUrl(path: string, query?: Record<string, QueryValue>): string {
    let url = this.url + path;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) params.set(key, String(value));
    }
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
    return url;
  }

  /** Headers with the credentials of this client (service key, or the session's bearer token). */
  async authHeaders(auth: 'session' | 'none' = 'session'): Promise<Record<string, string>> {
    const headers: Record<string, string> = { ...this.config.headers };
    if (this.config.apiKey !== undefined) headers['x-api-key'] = this.config.apiKey;
    if (auth === 'session') {
      const token = await this.tokens?.accessToken();
      if (token) headers['authorization'] = `Bearer ${token}`;
    }
    return headers;
  }

  /** Sends a request and answers the Response of a 2xx/3xx; throws BaasError or NetworkError otherwise. */
  async send(options: RequestOptions): Promise<Response> {
    const replayable = !(options.rawBody && isStream(options.body));
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      const headers = { ...(await this.authHeaders(options.auth)), ...options.headers };
      let body: Body | undefined;
      if (options.body !== undefined) {
        if (options.rawBody) body = options.body as Body;
        else {
          body = JSON.stringify(options.body);
          headers['content-type'] ??= 'application/json';
        }
      }
      const init: RequestInit & { duplex?: 'half' } = { method: options.method, headers, body, signal: options.signal };
      if (options.rawBody) Object.assign(init, UPLOAD_INIT);
      if (isStream(body)) init.duplex = 'half';
      let response: Response;
      try {
        response = await this.fetchFn(this.buildUrl(options.path, options.query), init);
      } catch (err) {
        if (options.signal?.aborted) throw new NetworkError('The request was aborted', err);
        if (SAFE.has(options.method) && attempt < this.retry.retries) {
          await sleep(this.backoff(attempt), options.signal);
          continue;
        }
        throw new NetworkError(`Could not reach ${this.url}: ${err instanceof Error ? err.message : String(err)}`, err);
      }
      if (response.ok || (response.status >= 300 && response.status < 400)) return response;

      const error = await toBaasError(response);
      const bearer = headers['authorization'];
      if (error.statusCode === 401 && error.code === 'INVALID_TOKEN' && bearer && !renewed && replayable && this.tokens) {
        renewed = true;
        if (await this.tokens.renew(bearer.slice('Bearer '.length))) {
          attempt--; // the renewal is not a retry
          continue;
        }
      }
      if ((error.statusCode === 429 || error.statusCode === 503) && SAFE.has(options.method) && attempt < this.retry.retries) {
        const wait = error.retryAfter !== undefined ? error.retryAfter * 1000 : this.backoff(attempt);
        await sleep(Math.min(wait, this.retry.maxDelayMs), options.signal);
        continue;
      }
      throw error;
    }
  }

  /** `send`, then the JSON body (undefined for 204). */
  async json<T>(options: RequestOptions): Promise<T> {
    const response = await this.send(options);
    if (response.status === 204 || options.method === 'HEAD') return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private backoff(attempt: number): number {
    const exp = this.retry.baseDelayMs * 2 ** attempt;
    return Math.min(this.retry.maxDelayMs, exp / 2 + Math.random() * (exp / 2));
  }
}

function isStream(body: unknown): body is ReadableStream {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
}

/** Seconds from a Retry-After header (delta seconds or an HTTP date). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The api's error body as a BaasError (or an HTTP_<status> one when something else answered). */
export async function toBaasError(response: Response): Promise<BaasError> {
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  const requestId = response.headers.get('x-request-id') ?? undefined;
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) {
    return new BaasError({
      statusCode: body.statusCode,
      code: body.code as ErrorCode,
      message: body.message,
      details: body.details,
      requestId: body.requestId ?? requestId,
      retryAfter,
    });
  }
  return new BaasError({
    statusCode: response.status,
    code: `HTTP_${response.status}`,
    message: `HTTP ${response.status} ${response.statusText}`.trim(),
    requestId,
    retryAfter,
  });
}

function isErrorBody(v: unknown): v is { statusCode: number; code: string; message: string; details?: ErrorDetail[]; requestId?: string } {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['statusCode'] === 'number' && typeof o['code'] === 'string' && typeof o['message'] === 'string';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new NetworkError('The request was aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new NetworkError('The request was aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const enc = encodeURIComponent;
