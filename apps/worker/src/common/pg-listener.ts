import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { APP_CONFIG, type AppConfig } from '#libs/config';

/**
 * One dedicated Postgres connection per worker that LISTENs for wake-ups (new outbox events,
 * changed function triggers). Reconnects by itself; the listeners also poll, so a lost
 * notification only delays work, it never loses it.
 */
@Injectable()
export class PgListener implements OnApplicationShutdown {
  private readonly logger = new Logger(PgListener.name);
  private readonly handlers = new Map<string, Set<() => void>>();
  private client?: pg.Client;
  private stopped = false;
  private connecting?: Promise<void>;
  private retryMs = 250;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Calls `handler` on every NOTIFY on `channel` (payloads are not used). */
  async on(channel: string, handler: () => void): Promise<void> {
    let set = this.handlers.get(channel);
    const isNew = !set;
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    await this.connect();
    if (isNew && this.client) await this.client.query(`LISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  private connect(): Promise<void> {
    if (this.client || this.stopped) return Promise.resolve();
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<void> {
    const client = new pg.Client({ connectionString: this.config.DATABASE_URL, connectionTimeoutMillis: 5_000 });
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      this.reconnectLater();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      for (const handler of this.handlers.get(n.channel) ?? []) handler();
    });
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      this.client = client;
      this.retryMs = 250;
      // Anything notified while disconnected: let every listener look once.
      for (const set of this.handlers.values()) for (const handler of set) handler();
    } catch (err) {
      this.logger.warn(`LISTEN connection failed: ${(err as Error).message}; polling meanwhile`);
      await client.end().catch(() => undefined);
      this.reconnectLater();
    }
  }

  private reconnectLater(): void {
    if (this.stopped) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(10_000, this.retryMs * 2);
    setTimeout(() => void this.connect(), delay).unref();
  }
}
