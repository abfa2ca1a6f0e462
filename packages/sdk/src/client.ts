import { AdminClient } from './admin.js';
import { AuthClient, type AuthOptions, type TokenStore } from './auth.js';
import { type BatchOperation, CollectionRef, runBatch } from './collections.js';
import { FunctionsClient } from './functions.js';
import { type FetchLike, Http, type HttpMethod, type QueryValue, type RetryOptions } from './http.js';
import { RealtimeClient, type RealtimeOptions } from './realtime.js';
import { StorageClient } from './storage.js';
import type { BatchResult } from './types.js';

export interface ClientOptions {
  /** The api's address (its PUBLIC_URL), e.g. `https://baas.example.org`. */
  url: string;
  /** A service key: the client acts as the service role (servers, scripts, the dashboard). Never in an app. */
  apiKey?: string;
  /** Where the session is kept: memory (default), `localStorage`, React Native's `AsyncStorage`, ... */
  storage?: TokenStore;
  /** Another fetch (tests, proxies, a runtime without a global one). */
  fetch?: FetchLike;
  /** Retries of safe requests (GET, HEAD) after network errors, 429 and 503. */
  retry?: RetryOptions;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  auth?: Omit<AuthOptions, 'storage'>;
  /** Live queries: another WebSocket implementation, reconnect delays. */
  realtime?: RealtimeOptions;
}

/** One object for the whole api: `auth`, `collection()`, `storage`, `functions`, `admin`. */
export interface BaasClient {
  readonly url: string;
  readonly auth: AuthClient;
  readonly storage: StorageClient;
  readonly functions: FunctionsClient;
  /** Live queries over a WebSocket (docs/realtime.md); connects on the first subscribe. */
  readonly realtime: RealtimeClient;
  /** Admin and service-key calls (users, keys, collection definitions, buckets, deploys, email). */
  readonly admin: AdminClient;
  /** The documents of a collection, typed by the app. */
  collection<T extends object = Record<string, unknown>>(name: string): CollectionRef<T>;
  /** Several document operations in one request. */
  batch(operations: BatchOperation[]): Promise<BatchResult>;
  /** Several document operations that all apply or none (a failure throws, nothing is applied). */
  transaction(operations: BatchOperation[]): Promise<BatchResult>;
  /** Any other call of the api, with this client's credentials, errors and retries. */
  request<T = unknown>(method: HttpMethod, path: string, options?: { query?: Record<string, QueryValue>; body?: unknown; headers?: Record<string, string> }): Promise<T>;
}

export function createClient(options: ClientOptions): BaasClient {
  const http = new Http({ url: options.url, apiKey: options.apiKey, fetch: options.fetch, retry: options.retry, headers: options.headers });
  const auth = new AuthClient(http, { ...options.auth, storage: options.storage });
  http.tokens = auth;
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return {
    url: http.url,
    auth,
    storage: new StorageClient(http, fetchFn),
    functions: new FunctionsClient(http),
    realtime: new RealtimeClient(http, auth, options.realtime),
    admin: new AdminClient(http),
    collection: <T extends object>(name: string) => new CollectionRef<T>(http, name),
    batch: (operations) => runBatch(http, operations),
    transaction: (operations) => runBatch(http, operations, { transaction: true }),
    request: (method, path, rest = {}) => http.json({ method, path, ...rest }),
  };
}
