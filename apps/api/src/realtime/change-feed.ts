import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { REDIS } from '#libs/queue';
import type { Acl } from '../collections/values.js';

/** A stored row as it travels on the feed (timestamps as ISO strings). */
export interface FeedRow {
  id: string;
  data: Record<string, unknown>;
  owner_id: string | null;
  acl: Acl | null;
  version: number;
  created_at: string;
  updated_at: string;
}

/** A document change (topic: the collection's name). */
export interface DocumentChange {
  op: 'create' | 'update' | 'delete';
  before: FeedRow | null;
  after: FeedRow | null;
}

/** A file of a bucket as it travels on the feed (what GET /storage/files/:id shows, plus its access). */
export interface FileFeedRow {
  id: string;
  bucket: string;
  key: string;
  size: number;
  contentType: string;
  ownerId: string | null;
  createdAt: string;
  checksum: string | null;
  aclRead: string[];
  aclWrite: string[];
}

/** A file that became ready or was deleted (topic: `bucket:<name>`). */
export interface FileChange {
  op: 'create' | 'delete';
  file: FileFeedRow;
  bucketPublic: boolean;
}

export type FeedChange = DocumentChange | FileChange;

/** The feed topic of a bucket's files (collection names cannot contain `:`). */
export const bucketTopic = (bucket: string) => `bucket:${bucket}`;

/** A change read back from a topic's stream; `id` is the stream entry id, the event id clients resume from. */
export type FeedEvent = FeedChange & {
  id: string;
  /** The topic: a collection's name, or `bucket:<name>`. */
  collection: string;
};

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

/** `1764415123456-0` → its parts, for ordering; undefined for anything else. */
export function parseEventId(id: string): [number, number] | undefined {
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(id);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function compareEventIds(a: string, b: string): number {
  const [am, as] = parseEventId(a) ?? [0, 0];
  const [bm, bs] = parseEventId(b) ?? [0, 0];
  return am - bm || as - bs;
}

/**
 * The realtime half of the change feed (docs/decisions.md, "Realtime"): after a write
 * commits, the api process that made it appends the change to a Redis Stream per collection
 * (the entry id is the event id, trimmed to the resume window), but only while some replica
 * has realtime interest in that collection. Interest is a Redis key per collection whose
 * expiry the subscribing replicas push forward (`announce`), mirrored in every process from a
 * pub/sub channel and a periodic scan, so a write without subscribers pays one Map lookup.
 * Each replica with subscribers reads the streams it needs on one blocking connection.
 */
@Injectable()
export class ChangeFeed implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ChangeFeed');
  /** collection → until when (epoch ms) some replica wants its changes. */
  private readonly interest = new Map<string, number>();
  /** collection → when this process last announced it. */
  private readonly announced = new Map<string, number>();
  /** collection → position read up to, and who gets what is read. */
  private readonly watched = new Map<string, { lastId: string; handlers: Set<(event: FeedEvent) => void> }>();
  private subscriber?: Redis;
  private reader?: Redis;
  private readerId?: number;
  private running = false;
  /** Set when the set of streams changed; the reader clears it when it starts its next read. */
  private dirty = false;
  private wake?: () => void;
  private scanTimer?: NodeJS.Timeout;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get windowMs(): number {
    return this.config.REALTIME_RESUME_WINDOW_SECONDS * 1000;
  }

  private key(kind: 'feed' | 'interest', collection: string): string {
    return `${this.config.QUEUE_PREFIX}:rt:${kind}:${collection}`;
  }

  private get channel(): string {
    return `${this.config.QUEUE_PREFIX}:rt:interest`;
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.REALTIME_ENABLED) return;
    const subscriber = this.redis.duplicate({ connectionName: 'baas-realtime-interest', commandTimeout: undefined });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      const [collection, until] = message.split(' ');
      if (collection && until) this.noteInterest(collection, Number(until));
    });
    // After a reconnect, announcements may have been missed: read the keys again.
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).catch(() => undefined);
      void this.scanInterest();
    });
    this.subscriber = subscriber;
    await subscriber.subscribe(this.channel).catch((err: unknown) => this.logger.warn(`cannot subscribe to realtime interest (${String(err)})`));
    await this.scanInterest();
    this.scanTimer = setInterval(() => void this.scanInterest(), 10_000);
    this.scanTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.scanTimer);
    this.wake?.();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    this.reader?.disconnect();
  }

  private noteInterest(collection: string, until: number): void {
    if (Number.isFinite(until) && until > (this.interest.get(collection) ?? 0)) this.interest.set(collection, until);
  }

  private async scanInterest(): Promise<void> {
    const prefix = this.key('interest', '');
    try {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length === 0) continue;
        const values = await this.redis.mget(...keys);
        keys.forEach((key, i) => this.noteInterest(key.slice(prefix.length), Number(values[i])));
      } while (cursor !== '0');
    } catch (err) {
      this.logger.warn(`cannot read realtime interest (${String(err)})`);
    }
    const now = Date.now();
    for (const [collection, until] of this.interest) if (until <= now) this.interest.delete(collection);
  }

  /** Whether a write to this collection must be published: some replica has had subscribers within the resume window. */
  hasInterest(collection: string): boolean {
    const until = this.interest.get(collection);
    return until !== undefined && until > Date.now();
  }

  /**
   * Marks the collection as wanted for the next resume window, on every replica: the key
   * first, then the announcement (its receivers are in-process caches). Resolves once Redis
   * has delivered the announcement to every replica's subscriber connection.
   */
  async announce(collection: string): Promise<void> {
    const now = Date.now();
    // Announced by this process moments ago: every replica knows already (subscribe storms cost no Redis traffic).
    if ((this.announced.get(collection) ?? 0) > now - Math.min(10_000, this.windowMs / 10)) return;
    const until = now + this.windowMs;
    this.noteInterest(collection, until);
    await this.redis.set(this.key('interest', collection), String(until), 'PX', this.windowMs);
    await this.redis.publish(this.channel, `${collection} ${until}`);
    if (this.announced.size > 10_000) this.announced.clear();
    this.announced.set(collection, now);
  }

  /** Appends a committed change to its collection's stream; fire and forget (a lost event is what realtime allows, the outbox is for functions). */
  publish(collection: string, change: FeedChange): void {
    if (!this.hasInterest(collection)) return;
    const key = this.key('feed', collection);
    const minId = String(Date.now() - this.windowMs);
    this.redis
      .pipeline()
      .xadd(key, 'MINID', '~', minId, '*', 'c', JSON.stringify(change))
      .pexpire(key, this.windowMs * 2)
      .exec()
      .catch((err: unknown) => this.logger.warn(`realtime event of ${collection} not published (${String(err)})`));
  }

  /** The newest event id of a collection ('0-0' when none). */
  async lastId(collection: string): Promise<string> {
    const entries = (await this.redis.xrevrange(this.key('feed', collection), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return entries[0]?.[0] ?? '0-0';
  }

  /** Events after `afterId`, oldest first, at most `count`. */
  async range(collection: string, afterId: string, count: number): Promise<FeedEvent[]> {
    const entries = (await this.redis.xrange(this.key('feed', collection), `(${afterId}`, '+', 'COUNT', count)) as [string, string[]][];
    return entries.flatMap(([id, fields]) => this.decode(collection, id, fields));
  }

  /** Delivers every event of the collection read from now on to `handler`, until the returned function is called. */
  async watch(collection: string, handler: (event: FeedEvent) => void): Promise<() => void> {
    let entry = this.watched.get(collection);
    if (!entry) {
      entry = { lastId: await this.lastId(collection), handlers: new Set() };
      const raced = this.watched.get(collection);
      if (raced) entry = raced;
      else this.watched.set(collection, entry);
    }
    entry.handlers.add(handler);
    this.startReader();
    void this.interrupt();
    const watching = entry;
    return () => {
      watching.handlers.delete(handler);
      if (watching.handlers.size === 0 && this.watched.get(collection) === watching) this.watched.delete(collection);
    };
  }

  private decode(collection: string, id: string, fields: string[]): FeedEvent[] {
    try {
      const change = JSON.parse(fields[1] ?? '') as FeedChange;
      return [{ ...change, id, collection }];
    } catch {
      return [];
    }
  }

  /** Ends the reader's blocking XREAD so it starts again with the current set of streams. */
  private async interrupt(): Promise<void> {
    this.dirty = true;
    this.wake?.();
    // An UNBLOCK that reaches Redis before the XREAD it means to end does nothing: repeat it
    // until the reader has started a read with the new set.
    for (let i = 0; i < 100 && this.dirty && this.running; i++) {
      if (this.readerId !== undefined) await this.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private startReader(): void {
    if (this.running) return;
    this.running = true;
    const reader = this.redis.duplicate({ connectionName: 'baas-realtime-reader', commandTimeout: undefined, maxRetriesPerRequest: null });
    reader.on('error', () => undefined);
    reader.on('ready', () => {
      reader.client('ID').then(
        (id) => (this.readerId = Number(id)),
        () => undefined,
      );
    });
    this.reader = reader;
    void this.readLoop(reader);
  }

  private async readLoop(reader: Redis): Promise<void> {
    while (this.running) {
      this.dirty = false;
      const streams = [...this.watched.entries()];
      if (streams.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      let reply: StreamReply;
      try {
        // The block is bounded so that a lost UNBLOCK delays a new stream by seconds, not forever.
        reply = (await reader.xread(
          'COUNT',
          1000,
          'BLOCK',
          5000,
          'STREAMS',
          ...streams.map(([c]) => this.key('feed', c)),
          ...streams.map(([, w]) => w.lastId),
        ));
      } catch (err) {
        if (!this.running) return;
        this.logger.warn(`realtime read failed (${String(err)}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        const collection = key.slice(this.key('feed', '').length);
        const watching = this.watched.get(collection);
        if (!watching) continue;
        for (const [id, fields] of entries) {
          if (compareEventIds(id, watching.lastId) <= 0) continue;
          watching.lastId = id;
          for (const event of this.decode(collection, id, fields)) {
            for (const handler of watching.handlers) handler(event);
          }
        }
      }
    }
  }
}
