import type { AuthClient } from './auth.js';
import type { Filter } from './collections.js';
import { BaasError, type ErrorCode, type ErrorDetail } from './errors.js';
import type { Http } from './http.js';
import type { FileInfo, SystemFields } from './types.js';

/** What the SDK needs of a WebSocket: the browser's, Node's global one (Node 22+), or `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

export interface RealtimeOptions {
  /** Another WebSocket implementation (default: the global `WebSocket`). */
  WebSocket?: WebSocketFactory;
  /** Reconnect delays after a lost connection: exponential from `baseDelayMs` up to `maxDelayMs`, with jitter. */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number };
}

export type RealtimeEventKind = 'create' | 'update' | 'delete' | 'leave';

/** A change of a document the subscriber may read (docs/realtime.md). */
export interface RealtimeEvent<T extends object = Record<string, unknown>> {
  /** The event id: subscriptions resume after it. */
  id: string;
  /** `leave`: no longer readable or no longer matching; `delete`: deleted. Neither carries a document. */
  event: RealtimeEventKind;
  collection: string;
  documentId: string;
  /** The document as a GET by this subscriber shows it (create and update). */
  document?: T & SystemFields;
}

/** A file of a bucket that became ready (`create`, with the file as GET shows it) or was deleted. */
export interface FileEvent {
  id: string;
  event: 'create' | 'delete';
  bucket: string;
  fileId: string;
  file?: FileInfo;
}

export interface SubscribeSpec<T extends object = Record<string, unknown>> {
  collection: string;
  /** The list-query filter language. */
  filter?: Filter<T>;
  /** Only this document. */
  id?: string;
  /** Projection, as `fields` of a GET. */
  fields?: string[];
  /** Resume after this event id (e.g. one kept from an earlier session). */
  since?: string;
}

export interface SubscriptionHandlers {
  /** The events after the last one received could not be replayed: read the current state again. */
  onResync?: () => void;
  /** The server refused the subscription (it is dropped) or reported an error about it. */
  onError?: (error: BaasError) => void;
}

export interface RealtimeSubscription {
  /** Resolves when the server has accepted the subscription (again after each reconnect: the first time). */
  readonly ready: Promise<void>;
  /** The last event id received: what a resume starts after. */
  readonly lastEventId: string | undefined;
  unsubscribe(): void;
}

export type RealtimeState = 'idle' | 'connecting' | 'open' | 'closed';

interface Sub {
  name: string;
  spec: SubscribeSpec<object> | { bucket: string; since?: string };
  onEvent: (event: RealtimeEvent<object>) => void;
  handlers: SubscriptionHandlers;
  lastEventId?: string;
  settle: { resolve: () => void; reject: (err: BaasError) => void } | undefined;
}

type ServerFrame = { type: string; ref?: string; sub?: string; code?: string; message?: string; details?: ErrorDetail[] } & Record<string, unknown>;

const OPEN = 1;
/** Close codes after which reconnecting with the same credentials cannot help. */
const FINAL_CLOSE = new Set([4001]);

/**
 * Live queries over one WebSocket (`client.realtime`): subscriptions survive reconnects
 * (each resumes after its last event id), the session's refreshed tokens are sent on the open
 * connection, a signed-out session reconnects anonymously.
 */
export class RealtimeClient {
  private socket: WebSocketLike | undefined;
  private readonly subs = new Map<string, Sub>();
  private seq = 0;
  private attempt = 0;
  private closedByUser = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private awaitingPong = false;
  /** The last token sent on this connection. */
  private sentToken: string | undefined;
  private stateValue: RealtimeState = 'idle';
  private readonly stateListeners = new Set<(state: RealtimeState) => void>();
  private readonly errorListeners = new Set<(error: BaasError) => void>();
  private stopAuthListener: (() => void) | undefined;

  constructor(
    private readonly http: Http,
    private readonly auth: AuthClient,
    private readonly options: RealtimeOptions = {},
  ) {}

  get state(): RealtimeState {
    return this.stateValue;
  }

  /** Calls `listener` on every state change; returns the function that stops it. */
  onStateChange(listener: (state: RealtimeState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Errors of the connection itself (credentials, limits), not of one subscription. */
  onError(listener: (error: BaasError) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Files of a bucket: each one that becomes ready or is deleted, if this client may read it. */
  subscribeFiles(bucket: string, onEvent: (event: FileEvent) => void, handlers: SubscriptionHandlers = {}, since?: string): RealtimeSubscription {
    return this.start({ bucket, since }, onEvent as unknown as Sub['onEvent'], handlers);
  }

  subscribe<T extends object = Record<string, unknown>>(
    spec: SubscribeSpec<T>,
    onEvent: (event: RealtimeEvent<T>) => void,
    handlers: SubscriptionHandlers = {},
  ): RealtimeSubscription {
    return this.start(spec, onEvent as Sub['onEvent'], handlers);
  }

  private start(spec: Sub['spec'], onEvent: Sub['onEvent'], handlers: SubscriptionHandlers): RealtimeSubscription {
    const name = `s${++this.seq}`;
    let settle: Sub['settle'];
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => undefined); // a refusal also reaches onError
    const sub: Sub = { name, spec, onEvent, handlers, lastEventId: spec.since, settle };
    this.subs.set(name, sub);
    this.closedByUser = false;
    if (this.socket?.readyState === OPEN && this.stateValue === 'open') this.sendSubscribe(sub);
    else this.connect();
    return {
      ready,
      get lastEventId() {
        return sub.lastEventId;
      },
      unsubscribe: () => {
        if (!this.subs.delete(name)) return;
        if (this.stateValue === 'open') this.send({ type: 'unsubscribe', sub: name });
        if (this.subs.size === 0) this.close();
      },
    };
  }

  /** Closes the connection; subscribing again opens a new one. */
  close(): void {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer);
    this.teardown();
    this.socket?.close(1000, 'closed by the client');
    this.socket = undefined;
    this.setState('closed');
  }

  private setState(state: RealtimeState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private get wsUrl(): string {
    return `${this.http.url.replace(/^http/, 'ws')}/v1/realtime`;
  }

  private connect(): void {
    if (this.socket || this.closedByUser) return;
    const Ctor = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
    if (!Ctor) throw new Error('No WebSocket: pass createClient({ realtime: { WebSocket } }) on a runtime without a global one');
    this.setState('connecting');
    const socket = new Ctor(this.wsUrl);
    this.socket = socket;
    this.stopAuthListener ??= this.auth.onAuthStateChange((event, session) => {
      if (event === 'refreshed' && session && this.stateValue === 'open') this.sendToken(session.accessToken);
      // Another identity: a connection keeps its own, so start a new one.
      if ((event === 'signed_out' || event === 'signed_in') && this.socket) this.restart();
    });
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(message.data)) as ServerFrame;
      } catch {
        return;
      }
      void this.handle(socket, frame);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.teardown();
      if (this.closedByUser || this.subs.size === 0) {
        this.setState('closed');
        return;
      }
      if (FINAL_CLOSE.has(event.code) && !this.http.hasApiKey) {
        // Credentials ended: the next attempt uses whatever the session has then (maybe none).
        this.emitError(new BaasError({ statusCode: 401, code: 'SESSION_REVOKED', message: event.reason || 'The realtime connection lost its credentials' }));
      }
      this.scheduleReconnect();
    };
    socket.onerror = () => undefined; // onclose follows
  }

  private restart(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.teardown();
    socket?.close(1000, 'credentials changed');
    this.connect();
  }

  private teardown(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.refreshTimer);
    this.awaitingPong = false;
    this.sentToken = undefined;
  }

  private scheduleReconnect(): void {
    this.setState('connecting');
    const base = this.options.reconnect?.baseDelayMs ?? 500;
    const max = this.options.reconnect?.maxDelayMs ?? 30_000;
    const delay = Math.min(max, base * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private send(frame: Record<string, unknown>): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(frame));
  }

  private sendSubscribe(sub: Sub): void {
    if ('bucket' in sub.spec) {
      this.send({ type: 'subscribe', ref: sub.name, sub: sub.name, bucket: sub.spec.bucket, since: sub.lastEventId });
      return;
    }
    const { collection, filter, id, fields } = sub.spec;
    this.send({ type: 'subscribe', ref: sub.name, sub: sub.name, collection, filter, id, fields, since: sub.lastEventId });
  }

  /** Credentials for the connection: the service key, else the session's access token (refreshed when due), else none. */
  private async authenticate(): Promise<void> {
    if (this.http.apiKey !== undefined) {
      this.send({ type: 'auth', ref: 'auth', apiKey: this.http.apiKey });
      return;
    }
    const token = await this.auth.accessToken();
    if (token) this.sendToken(token);
  }

  private sendToken(token: string): void {
    this.sentToken = token;
    this.send({ type: 'auth', ref: 'auth', token });
  }

  private async handle(socket: WebSocketLike, frame: ServerFrame): Promise<void> {
    switch (frame.type) {
      case 'welcome': {
        await this.authenticate();
        if (socket !== this.socket) return;
        this.setState('open');
        this.attempt = 0;
        for (const sub of this.subs.values()) this.sendSubscribe(sub);
        const interval = typeof frame.pingIntervalMs === 'number' ? frame.pingIntervalMs : 30_000;
        // Browsers answer the server's pings without telling the page: an app-level ping finds a dead connection.
        this.pingTimer = setInterval(() => {
          if (this.awaitingPong) {
            this.socket?.close(4000, 'no pong');
            return;
          }
          this.awaitingPong = true;
          this.send({ type: 'ping' });
        }, interval);
        return;
      }
      case 'authed':
        this.scheduleRefresh(typeof frame.expiresAt === 'string' ? Date.parse(frame.expiresAt) : undefined);
        return;
      case 'pong':
        this.awaitingPong = false;
        return;
      case 'subscribed': {
        const sub = this.subs.get(String(frame.sub));
        sub?.settle?.resolve();
        if (sub) sub.settle = undefined;
        return;
      }
      case 'event': {
        const sub = this.subs.get(String(frame.sub));
        if (!sub) return;
        sub.lastEventId = String(frame.id);
        if (typeof frame.bucket === 'string') {
          const { id, event, bucket, fileId, file } = frame as unknown as FileEvent;
          (sub.onEvent as unknown as (e: FileEvent) => void)(file === undefined ? { id, event, bucket, fileId } : { id, event, bucket, fileId, file });
          return;
        }
        const { id, event, collection, documentId, document } = frame as unknown as RealtimeEvent<object>;
        sub.onEvent(document === undefined ? { id, event, collection, documentId } : { id, event, collection, documentId, document });
        return;
      }
      case 'resync': {
        const sub = this.subs.get(String(frame.sub));
        if (!sub) return;
        sub.lastEventId = String(frame.lastEventId);
        sub.handlers.onResync?.();
        return;
      }
      case 'error':
        await this.handleError(frame);
        return;
    }
  }

  private async handleError(frame: ServerFrame): Promise<void> {
    const error = new BaasError({ statusCode: 400, code: (frame.code ?? 'BAD_REQUEST') as ErrorCode, message: frame.message ?? 'Realtime error', details: frame.details });
    const sub = this.subs.get(String(frame.sub ?? frame.ref));
    if (sub && frame.code === 'RATE_LIMITED') {
      // Dropped, not refused: ask again a little later.
      setTimeout(() => {
        if (this.subs.get(sub.name) === sub && this.stateValue === 'open') this.sendSubscribe(sub);
      }, 1000);
      return;
    }
    if (sub) {
      // A refused subscription is dropped: the same request would be refused again.
      this.subs.delete(sub.name);
      sub.settle?.reject(error);
      sub.handlers.onError?.(error);
      return;
    }
    if (frame.code === 'TOKEN_EXPIRED') {
      // Refreshes when due; the new token resumes every paused subscription.
      const token = await this.auth.accessToken();
      if (token) this.sendToken(token);
    }
    this.emitError(error);
  }

  /** Sends a fresh token before the connection's one expires (the session refreshes it; the listener sends it). */
  private scheduleRefresh(expiresAt: number | undefined): void {
    clearTimeout(this.refreshTimer);
    if (expiresAt === undefined || this.http.apiKey !== undefined) return;
    const delay = Math.max(0, expiresAt - Date.now() - 5_000);
    this.refreshTimer = setTimeout(() => {
      void this.auth.accessToken().then((token) => {
        if (token && token !== this.sentToken) this.sendToken(token);
      });
    }, delay);
  }

  private emitError(error: BaasError): void {
    for (const listener of this.errorListeners) listener(error);
  }
}
