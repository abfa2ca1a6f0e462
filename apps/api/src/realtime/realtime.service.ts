import { randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { REDIS } from '#libs/queue';
import { type Caller } from '../auth/caller.js';
import { CallerResolver } from '../auth/caller-resolver.js';
import { LiveSessionService } from '../auth/live-session.service.js';
import { AppException } from '../common/app-exception.js';
import { findUnsafeJson } from '../common/safe-json.js';
import { CollectionsService } from '../collections/collections.service.js';
import type { CollectionDef, Rule } from '../collections/definition.js';
import { matchesFilter } from '../collections/documents/filter-match.js';
import { fromFeedRow } from '../collections/documents/doc-view.js';
import { checkedFilter, DocumentsService } from '../collections/documents/documents.service.js';
import { readShape } from '../collections/documents/projection.js';
import { assertKeyScope } from '../auth/api-key-scopes.js';
import { readFilterSql } from '../collections/permissions.js';
import { Params } from '../collections/sql.js';
import { UUID } from '../collections/values.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { StorageService } from '../storage/storage.service.js';
import { bucketTopic, ChangeFeed, compareEventIds, type DocumentChange, type FeedEvent, type FeedRow, type FileChange, parseEventId } from './change-feed.js';
import { CLOSE, type ClientFrame, clientFrame, type ServerFrame, type SubscribeFrame } from './realtime.protocol.js';

/** What a connection writes to: a WebSocket or an SSE response. */
export interface Transport {
  send(text: string): void;
  /** Bytes written but not yet handed to the network. */
  buffered(): number;
  close(code: number, reason: string): void;
  /** Keep-alive: a WebSocket ping (and the check that the last one was answered), an SSE comment. */
  heartbeat(): void;
  /** False for SSE: an expired token ends the stream (the client reconnects with a new one and Last-Event-ID). */
  readonly refreshable: boolean;
}

/** A checked subscription request. */
export interface SubscriptionSpec {
  /** The feed topic: the collection's name, or `bucket:<name>`. */
  topic: string;
  collection?: string;
  /** A bucket's files instead of a collection's documents. */
  bucket?: string;
  filter?: Record<string, unknown>;
  documentId?: string;
  fields?: string[];
  /** `list` and `read` for a live list, `read` for one document. */
  rules: ('list' | 'read')[];
}

interface Subscription extends SubscriptionSpec {
  sub: string;
  /** The last event id this subscription has been given (or skipped as not for it). */
  cursor: string;
  /** When the subscription was last known to be complete up to `cursor` (epoch ms). */
  cursorAt: number;
  unwatch: () => void;
}

/** Replayed events per resume at most; a longer gap is a resync. */
const REPLAY_MAX = 1000;
/** Frames waiting to be processed per connection before it counts as a slow consumer. */
const MAX_QUEUED = 10_000;
/** Client frames per connection: a burst (room for a resubscription of every allowed subscription), then FRAME_RATE per second. */
const FRAME_RATE = 50;

/** One client connection (WebSocket or SSE) and its subscriptions. */
export class Connection {
  readonly id = randomUUID();
  caller: Caller = { kind: 'anonymous' };
  /** Epoch ms when the access token expires. */
  expiresAt?: number;
  paused = false;
  closed = false;
  counted = false;
  /** An admin-created API key the connection authenticated with: checked again every ping interval. */
  apiKey?: string;
  readonly subs = new Map<string, Subscription>();
  seq = 0;
  private chain: Promise<void> = Promise.resolve();
  private frameTokens: number;
  private frameRefilled = Date.now();
  private queued = 0;
  expiryTimer?: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;

  constructor(
    readonly transport: Transport,
    private readonly maxBuffer: number,
    readonly frameBurst: number,
    private readonly onClose: (conn: Connection, code: number) => void,
  ) {
    this.frameTokens = frameBurst;
  }

  /** Runs work after everything queued before it: frames and events are handled in order. */
  enqueue(work: () => Promise<void>): void {
    if (this.closed) return;
    if (++this.queued > MAX_QUEUED) {
      this.close(CLOSE.slowConsumer, 'slow consumer: too many events waiting');
      return;
    }
    this.chain = this.chain.then(work).catch(() => undefined).finally(() => this.queued--);
  }

  /** Takes one token of the client-frame budget; false when the client sends too fast. */
  takeFrameToken(): boolean {
    const now = Date.now();
    this.frameTokens = Math.min(this.frameBurst, this.frameTokens + ((now - this.frameRefilled) / 1000) * FRAME_RATE);
    this.frameRefilled = now;
    if (this.frameTokens < 1) return false;
    this.frameTokens--;
    return true;
  }

  send(frame: ServerFrame): void {
    if (this.closed) return;
    this.transport.send(JSON.stringify(frame));
    if (this.transport.buffered() > this.maxBuffer) this.close(CLOSE.slowConsumer, 'slow consumer: send buffer full');
  }

  error(error: AppException | { code: string; message: string }, ref?: string, sub?: string): void {
    const details = error instanceof AppException ? error.details : undefined;
    this.send({ type: 'error', ...(ref ? { ref } : {}), ...(sub ? { sub } : {}), code: error.code, message: error.message, ...(details ? { details } : {}) });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close(code, reason);
    this.onClose(this, code);
  }
}

const frameError = (code: string, message: string, path?: string) =>
  new AppException(400, code, message, path === undefined ? undefined : [{ path, message }]);

/**
 * Live queries (docs/realtime.md): connections, their subscriptions, and the per-event,
 * per-subscriber check. Changes come from the ChangeFeed (every replica's writes); each is
 * checked for each subscriber when it is sent, through `DocumentsService.viewAs` (the read
 * rule, the acl and the GET view) and the subscription's filter, or for files of a bucket
 * through `StorageService.viewAs`.
 */
@Injectable()
export class RealtimeService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Realtime');
  private readonly connections = new Set<Connection>();
  private timer?: NodeJS.Timeout;
  private readonly eventsSent: Counter<'kind'>;
  private readonly closes: Counter<'code'>;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly documents: DocumentsService,
    private readonly collections: CollectionsService,
    private readonly storage: StorageService,
    private readonly callers: CallerResolver,
    private readonly sessions: LiveSessionService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    const registers = [metrics.registry];
    const connections = this.connections;
    new Gauge({
      name: 'realtime_connections',
      help: 'Open realtime connections (WebSocket and SSE) on this process',
      registers,
      collect() {
        this.set(connections.size);
      },
    });
    new Gauge({
      name: 'realtime_subscriptions',
      help: 'Realtime subscriptions on this process',
      registers,
      collect() {
        let n = 0;
        for (const conn of connections) n += conn.subs.size;
        this.set(n);
      },
    });
    this.eventsSent = new Counter({ name: 'realtime_events_sent_total', help: 'Realtime event frames sent, by kind', labelNames: ['kind'] as const, registers });
    this.closes = new Counter({
      name: 'realtime_closes_total',
      help: 'Realtime connections closed, by close code (4008 slow consumer, 4001 credentials, 4029 too many connections)',
      labelNames: ['code'] as const,
      registers,
    });
  }

  onModuleInit(): void {
    if (!this.config.REALTIME_ENABLED) return;
    this.timer = setInterval(() => void this.tick(), this.config.REALTIME_PING_INTERVAL_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
    for (const conn of [...this.connections]) conn.close(CLOSE.goingAway, 'server shutting down');
  }

  /** Open connections on this process (tests, metrics). */
  get size(): number {
    return this.connections.size;
  }

  open(transport: Transport): Connection {
    const burst = this.config.REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION + 100;
    const conn = new Connection(transport, this.config.REALTIME_MAX_BUFFER_BYTES, burst, (c, code) => this.closed(c, code));
    this.connections.add(conn);
    return conn;
  }

  welcome(conn: Connection): void {
    conn.send({
      type: 'welcome',
      connectionId: conn.id,
      pingIntervalMs: this.config.REALTIME_PING_INTERVAL_MS,
      resumeWindowSeconds: this.config.REALTIME_RESUME_WINDOW_SECONDS,
    });
  }

  /** A text frame from the client: checked, then handled in order. Bad input is an error frame; the connection stays. */
  receive(conn: Connection, text: string): void {
    if (!conn.takeFrameToken()) {
      const ref = text.length <= this.config.REALTIME_MAX_FRAME_BYTES ? refOf(text) : undefined;
      conn.error({ code: 'RATE_LIMITED', message: `Too many frames: at most ${conn.frameBurst} at once, then ${FRAME_RATE} per second; this one was dropped` }, ref);
      return;
    }
    if (Buffer.byteLength(text) > this.config.REALTIME_MAX_FRAME_BYTES) {
      conn.error(frameError('FRAME_TOO_LARGE', `Frames may be at most ${this.config.REALTIME_MAX_FRAME_BYTES} bytes`));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      conn.error(frameError('BAD_FRAME', 'A frame must be a JSON object'));
      return;
    }
    // The one check of every JSON input (forbidden keys such as __proto__, depth, text).
    const unsafe = findUnsafeJson(value);
    if (unsafe) {
      conn.error(frameError('BAD_FRAME', `The frame is not valid: ${unsafe.message}`, unsafe.path.join('.').slice(0, 200)));
      return;
    }
    const parsed = clientFrame.safeParse(value);
    if (!parsed.success) {
      const ref = refIn(value);
      const details = parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
      conn.error(new AppException(400, 'BAD_FRAME', 'The frame is not valid', details), ref);
      return;
    }
    const frame = parsed.data;
    conn.enqueue(async () => {
      try {
        await this.handle(conn, frame);
      } catch (err) {
        if (err instanceof AppException) {
          conn.error(err, frame.ref, frame.type === 'subscribe' ? frame.sub : undefined);
          if (err.code === 'CONNECTION_LIMIT') conn.close(CLOSE.tooManyConnections, 'too many connections');
        } else {
          // Past validation, a frame fails only on its I/O (Redis, Postgres): retryable.
          this.logger.error(`realtime ${frame.type} failed: ${err instanceof Error ? err.message : String(err)}`);
          conn.error({ code: 'SERVICE_UNAVAILABLE', message: 'Realtime could not do this right now; try again' }, frame.ref, frame.type === 'subscribe' ? frame.sub : undefined);
        }
      }
    });
  }

  private async handle(conn: Connection, frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'ping':
        conn.send({ type: 'pong', ...(frame.ref ? { ref: frame.ref } : {}) });
        return;
      case 'auth':
        await this.authenticate(conn, frame.apiKey, frame.token === undefined ? undefined : `Bearer ${frame.token}`, frame.ref);
        return;
      case 'refresh':
        if (conn.caller.kind !== 'user') throw new AppException(400, 'BAD_FRAME', 'refresh is for a signed-in connection; send an auth frame first');
        await this.authenticate(conn, undefined, `Bearer ${frame.token}`, frame.ref);
        return;
      case 'unsubscribe': {
        const sub = conn.subs.get(frame.sub);
        if (!sub) throw new AppException(404, 'SUBSCRIPTION_NOT_FOUND', `There is no subscription "${frame.sub}"`);
        sub.unwatch();
        conn.subs.delete(frame.sub);
        conn.send({ type: 'unsubscribed', ...(frame.ref ? { ref: frame.ref } : {}), sub: frame.sub });
        return;
      }
      case 'subscribe':
        await this.subscribe(conn, frame);
        return;
    }
  }

  /**
   * Sets or refreshes the connection's credentials. A connection keeps its identity: the
   * first credentials may turn an anonymous connection into a user's or the service's, later
   * ones must be the same principal's (a token refresh). A refresh resumes paused
   * subscriptions from where they stopped.
   */
  async authenticate(conn: Connection, apiKey: string | undefined, authorization: string | undefined, ref?: string): Promise<void> {
    if (apiKey === undefined && authorization === undefined) throw frameError('BAD_FRAME', 'Send a token or an apiKey', 'token');
    const caller = await this.callers.resolve(apiKey, authorization);
    const before = conn.caller;
    const same =
      before.kind === 'anonymous' ||
      (before.kind === 'user' && caller.kind === 'user' && before.userId === caller.userId) ||
      (before.kind === 'service' && caller.kind === 'service' && before.keyId === caller.keyId);
    if (!same) throw new AppException(403, 'FORBIDDEN', 'A connection keeps its identity; open a new connection for another one');
    if (caller.kind === 'user' && !conn.counted) await this.countConnection(conn, caller.userId);
    conn.caller = caller;
    conn.apiKey = caller.kind === 'service' && caller.keyId !== 'bootstrap' ? apiKey : undefined;
    clearTimeout(conn.expiryTimer);
    clearTimeout(conn.graceTimer);
    conn.expiresAt = authorization ? tokenExpiry(authorization) : undefined;
    if (conn.expiresAt !== undefined) {
      conn.expiryTimer = setTimeout(() => this.expired(conn), Math.max(0, conn.expiresAt - Date.now()));
      conn.expiryTimer.unref();
    }
    conn.send({
      type: 'authed',
      ...(ref ? { ref } : {}),
      caller: caller.kind,
      ...(caller.kind === 'user' ? { userId: caller.userId } : {}),
      ...(conn.expiresAt !== undefined ? { expiresAt: new Date(conn.expiresAt).toISOString() } : {}),
    });
    if (conn.paused) {
      conn.paused = false;
      for (const sub of conn.subs.values()) await this.replay(conn, sub, sub.cursor, undefined, sub.cursorAt);
    }
  }

  /** The access token expired: events stop (and are replayed after a refresh) until a new token arrives, for at most the resume window. */
  private expired(conn: Connection): void {
    if (conn.closed) return;
    if (!conn.transport.refreshable) {
      conn.error({ code: 'TOKEN_EXPIRED', message: 'The access token expired; reconnect with a new one and Last-Event-ID' });
      conn.close(CLOSE.unauthorized, 'token expired');
      return;
    }
    conn.paused = true;
    const seconds = this.config.REALTIME_RESUME_WINDOW_SECONDS;
    conn.error({ code: 'TOKEN_EXPIRED', message: `The access token expired; events are paused until an auth frame with a new token (within ${seconds} s)` });
    conn.graceTimer = setTimeout(() => conn.close(CLOSE.unauthorized, 'token expired and not refreshed'), seconds * 1000);
    conn.graceTimer.unref();
  }

  /** Checks a subscription request for this caller: the collection exists, the caller may list (or read) it, the filter and fields are valid. */
  async check(caller: Caller, frame: Pick<SubscribeFrame, 'collection' | 'bucket' | 'filter' | 'id' | 'fields'>): Promise<SubscriptionSpec> {
    // A scoped API key subscribes only within its areas, as its GETs would.
    assertKeyScope(caller, frame.bucket !== undefined ? 'storage' : 'collections', 'GET');
    if (frame.bucket !== undefined) {
      // Every file event is checked per subscriber (storage.policy), as listing a bucket is.
      const bucket = await this.storage.requireBucket(frame.bucket);
      return { topic: bucketTopic(bucket.name), bucket: bucket.name, rules: [] };
    }
    if (frame.collection === undefined) throw frameError('BAD_FRAME', 'Name a collection or a bucket', 'collection');
    const def = await this.collections.require(frame.collection);
    const rules: ('list' | 'read')[] = frame.id === undefined ? ['list', 'read'] : ['read'];
    for (const rule of rules) {
      // Refused up front only when the rule lets this caller see nothing at all (as a list would
      // find nothing); whether each document may be seen is checked per event.
      if (readFilterSql(caller, def.rules[rule], new Params(), 'd', def) !== false) continue;
      throw caller.kind === 'anonymous'
        ? new AppException(401, 'UNAUTHENTICATED', `Sign in to subscribe to ${def.name}`)
        : new AppException(403, 'FORBIDDEN', `You may not ${rule} ${def.name}`);
    }
    if (frame.id !== undefined && !UUID.test(frame.id)) throw frameError('BAD_FRAME', 'id must be a document id (a UUID)', 'id');
    const filter = frame.filter === undefined ? undefined : checkedFilter(def, frame.filter);
    const fields = frame.fields === undefined ? undefined : readShape(def, { fields: frame.fields.join(',') }).project;
    return { topic: def.name, collection: def.name, filter, documentId: frame.id?.toLowerCase(), fields, rules };
  }

  async subscribe(conn: Connection, frame: SubscribeFrame): Promise<void> {
    if (conn.subs.size >= this.config.REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      throw new AppException(429, 'SUBSCRIPTION_LIMIT', `At most ${this.config.REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection`);
    }
    const name = frame.sub ?? `s${++conn.seq}`;
    if (conn.subs.has(name)) throw new AppException(409, 'SUBSCRIPTION_EXISTS', `There already is a subscription "${name}" on this connection`);
    const spec = await this.check(conn.caller, frame);
    await this.add(conn, name, spec, frame.since, frame.ref);
  }

  /** Starts a checked subscription: live from now, or replayed from `since` first. */
  async add(conn: Connection, name: string, spec: SubscriptionSpec, since: string | undefined, ref?: string): Promise<void> {
    // Interest first (every replica publishes this collection's writes from here on), then
    // the watch, then the position: whatever is written after the answer is delivered.
    await this.feed.announce(spec.topic);
    const sub: Subscription = { ...spec, sub: name, cursor: '0-0', cursorAt: Date.now(), unwatch: () => undefined };
    conn.subs.set(name, sub);
    let last: string;
    try {
      sub.unwatch = await this.feed.watch(spec.topic, (event) => conn.enqueue(() => this.deliver(conn, sub, event)));
      last = await this.feed.lastId(spec.topic);
    } catch (err) {
      sub.unwatch();
      conn.subs.delete(name);
      throw err;
    }
    sub.cursor = since ?? last;
    sub.cursorAt = Date.now();
    const target = spec.bucket !== undefined ? { bucket: spec.bucket } : { collection: spec.collection };
    conn.send({ type: 'subscribed', ...(ref ? { ref } : {}), sub: name, ...target, lastEventId: sub.cursor });
    if (since !== undefined) await this.replay(conn, sub, since, last);
  }

  /** Sends what a subscription missed after `since`, or a resync when that is out of reach. */
  private async replay(conn: Connection, sub: Subscription, since: string, last?: string, asOf?: number): Promise<void> {
    const newest = last ?? (await this.feed.lastId(sub.topic));
    // A client's id is as old as its time; a paused subscription's position as old as the pause.
    const ms = asOf ?? parseEventId(since)?.[0] ?? 0;
    let reason: string | undefined;
    if (ms < Date.now() - this.feed.windowMs) reason = 'the last event id is older than the resume window';
    else if (compareEventIds(since, newest) > 0) reason = 'the last event id is unknown';
    const events = reason ? [] : await this.feed.range(sub.topic, since, REPLAY_MAX + 1);
    if (events.length > REPLAY_MAX) reason = `more than ${REPLAY_MAX} events were missed`;
    if (reason) {
      sub.cursor = newest;
      sub.cursorAt = Date.now();
      conn.send({ type: 'resync', sub: sub.sub, reason: `${reason}; read the current state again`, lastEventId: newest });
      return;
    }
    for (const event of events) await this.deliver(conn, sub, event);
  }

  /** One event for one subscription: checked for this subscriber now, then sent (or not). */
  private async deliver(conn: Connection, sub: Subscription, event: FeedEvent): Promise<void> {
    if (conn.closed || conn.paused || conn.subs.get(sub.sub) !== sub) return;
    if (compareEventIds(event.id, sub.cursor) <= 0) return;
    sub.cursor = event.id;
    sub.cursorAt = Date.now();
    const caller = await this.liveCaller(conn);
    if (!caller) return;
    let frame: ServerFrame | undefined;
    try {
      frame = 'file' in event ? this.fileEventFrame(caller, sub, event) : await this.documentFrame(caller, sub, event);
    } catch (err) {
      // The check could not run (a rule through a reference asks Postgres): the subscriber
      // cannot know what it missed, so it is told to read the current state again.
      this.logger.error(`realtime event check failed: ${err instanceof Error ? err.message : String(err)}`);
      conn.send({ type: 'resync', sub: sub.sub, reason: 'an event could not be checked; read the current state again', lastEventId: event.id });
      return;
    }
    if (!frame) return;
    conn.send(frame);
    this.eventsSent.inc({ kind: frame.type === 'event' ? frame.event : frame.type });
  }

  private async documentFrame(caller: Caller, sub: Subscription, event: DocumentChange & { id: string; collection: string }): Promise<ServerFrame | undefined> {
    const def = await this.collections.definition(event.collection);
    return def && this.eventFrame(caller, def, sub, event);
  }

  /** A file that became ready or was deleted, for a subscriber that may read it (as GET /storage/files/:id). */
  private fileEventFrame(caller: Caller, sub: Subscription, event: FileChange & { id: string }): ServerFrame | undefined {
    const file = this.storage.viewAs(caller, event.file, event.bucketPublic);
    if (!file) return undefined;
    const base = { type: 'event' as const, sub: sub.sub, id: event.id, bucket: event.file.bucket, fileId: event.file.id };
    return event.op === 'create' ? { ...base, event: 'create', file } : { ...base, event: 'delete' };
  }

  /**
   * The event a subscriber gets for a change, or none: the document as GET would show it to
   * them now when it is readable and matches; a `leave` when it was readable and matching
   * before the change and no longer is; a `delete` when a readable, matching one is deleted.
   */
  async eventFrame(caller: Caller, def: CollectionDef, sub: Subscription, event: DocumentChange & { id: string }): Promise<ServerFrame | undefined> {
    const rules: Rule[] = sub.rules.map((r) => def.rules[r]);
    const view = async (row: FeedRow | null) => {
      if (!row || (sub.documentId !== undefined && row.id !== sub.documentId)) return null;
      const stored = fromFeedRow(row);
      if (!matchesFilter(def, sub.filter, stored)) return null;
      return this.documents.viewAs(caller, def, stored, rules, sub.fields);
    };
    const base = { type: 'event' as const, sub: sub.sub, id: event.id, collection: def.name, documentId: (event.after ?? event.before)!.id };
    const after = await view(event.after);
    if (after) return { ...base, event: event.op === 'create' ? 'create' : 'update', document: after };
    if (!(await view(event.before))) return undefined;
    return { ...base, event: event.op === 'delete' ? 'delete' : 'leave' };
  }

  /**
   * The caller as a request would resolve it now (roles, email, emailVerified: what rules
   * read of `@auth`); closes the connection when its session has ended.
   */
  private async liveCaller(conn: Connection): Promise<Caller | undefined> {
    const caller = conn.caller;
    if (caller.kind !== 'user') return caller;
    try {
      const live = await this.sessions.check(caller.sessionId, caller.userId);
      return { ...caller, roles: live.roles, email: live.email, emailVerified: live.emailVerified };
    } catch (err) {
      if (err instanceof AppException) {
        conn.error(err);
        conn.close(CLOSE.unauthorized, 'session ended');
      }
      return undefined;
    }
  }

  /** A revoked key (or one whose creator is no longer an admin) ends the connection within a ping interval. */
  private async recheckKey(conn: Connection, apiKey: string): Promise<void> {
    try {
      await this.callers.resolve(apiKey, undefined);
    } catch (err) {
      if (!(err instanceof AppException)) return; // Postgres unreachable: try again next time
      conn.error(err);
      conn.close(CLOSE.unauthorized, 'API key revoked');
    }
  }

  private userKey(userId: string): string {
    return `${this.config.QUEUE_PREFIX}:rt:conns:${userId}`;
  }

  private get leaseMs(): number {
    return this.config.REALTIME_PING_INTERVAL_MS * 3;
  }

  /** Counts a user's connection across replicas (a sorted set of leases); CONNECTION_LIMIT when there are too many. */
  private async countConnection(conn: Connection, userId: string): Promise<void> {
    const now = Date.now();
    const ok = await this.redis.eval(
      `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
       if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
       redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
       redis.call('PEXPIRE', KEYS[1], ARGV[5])
       return 1`,
      1,
      this.userKey(userId),
      now,
      this.config.REALTIME_MAX_CONNECTIONS_PER_USER,
      now + this.leaseMs,
      conn.id,
      this.leaseMs,
    );
    if (ok !== 1) throw new AppException(429, 'CONNECTION_LIMIT', `At most ${this.config.REALTIME_MAX_CONNECTIONS_PER_USER} realtime connections per user`);
    conn.counted = true;
  }

  private closed(conn: Connection, code: number): void {
    this.closes.inc({ code: String(code) });
    this.connections.delete(conn);
    clearTimeout(conn.expiryTimer);
    clearTimeout(conn.graceTimer);
    for (const sub of conn.subs.values()) sub.unwatch();
    conn.subs.clear();
    if (conn.counted && conn.caller.kind === 'user') this.redis.zrem(this.userKey(conn.caller.userId), conn.id).catch(() => undefined);
  }

  /** Every ping interval: keep-alive, connection leases, interest in the watched collections, session checks of idle connections. */
  private async tick(): Promise<void> {
    const collections = new Set<string>();
    const pipeline = this.redis.pipeline();
    for (const conn of this.connections) {
      conn.transport.heartbeat();
      for (const sub of conn.subs.values()) collections.add(sub.topic);
      if (conn.counted && conn.caller.kind === 'user') pipeline.zadd(this.userKey(conn.caller.userId), Date.now() + this.leaseMs, conn.id).pexpire(this.userKey(conn.caller.userId), this.leaseMs);
      if (conn.caller.kind === 'user' && !conn.paused) conn.enqueue(async () => void (await this.liveCaller(conn)));
      const apiKey = conn.apiKey;
      if (apiKey !== undefined) conn.enqueue(() => this.recheckKey(conn, apiKey));
    }
    await pipeline.exec().catch(() => undefined);
    for (const collection of collections) await this.feed.announce(collection).catch(() => undefined);
  }
}

/** The `ref` of a frame that failed validation, to answer it (at most 64 characters). */
function refIn(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && 'ref' in value && typeof value.ref === 'string' ? value.ref.slice(0, 64) : undefined;
}

function refOf(text: string): string | undefined {
  try {
    return refIn(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The `exp` of a verified access token (the resolver has checked it), in epoch ms. */
function tokenExpiry(authorization: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(authorization.slice('Bearer '.length).split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
