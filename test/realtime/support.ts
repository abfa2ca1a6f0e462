import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import WebSocket from 'ws';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';

export type Frame = Record<string, unknown> & { type: string };

/** An api listening on an ephemeral port of 127.0.0.1 (realtime needs real sockets); its ws:// and http:// bases. */
export async function listeningApi(overrides: Record<string, string> = {}): Promise<{ app: NestFastifyApplication; http: string; ws: string }> {
  const app = await startApi(testConfig(overrides));
  await app.listen(0, '127.0.0.1');
  const http = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, http, ws: `${http.replace(/^http/, 'ws')}/v1/realtime` };
}

type Api = { app: NestFastifyApplication };

/** Creates a document over HTTP; its id. */
export async function createDoc(api: Api, collection: string, headers: Record<string, string>, body: Record<string, unknown>): Promise<string> {
  const res = await request(api.app.getHttpServer()).post(`/v1/collections/${collection}/documents`).set(headers).send(body);
  if (res.status !== 201) throw new Error(`create: ${res.status} ${res.text}`);
  return res.body.id as string;
}

/** Patches a document over HTTP (200 expected). */
export async function patchDoc(api: Api, collection: string, id: string, headers: Record<string, string>, body: Record<string, unknown>): Promise<void> {
  await request(api.app.getHttpServer()).patch(`/v1/collections/${collection}/documents/${id}`).set(headers).send(body).expect(200);
}

/** Who a connection authenticates as: a user (its access token), `service` (the service key), an API key, or anonymous (undefined). */
export type Principal = { accessToken: string } | 'service' | { apiKey: string } | undefined;

/** A WebSocket connection to `url` authenticated as this principal (an `auth` frame that must answer `authed`). */
export async function connectAs(url: string, who: Principal): Promise<RtClient> {
  const client = await RtClient.connect(url);
  if (who === undefined) return client;
  const frame = who === 'service' ? { type: 'auth', apiKey: SERVICE_KEY } : 'apiKey' in who ? { type: 'auth', apiKey: who.apiKey } : { type: 'auth', token: who.accessToken };
  const answer = await client.request(frame);
  if (answer.type !== 'authed') throw new Error(`auth failed: ${JSON.stringify(answer)}`);
  return client;
}

/**
 * A WebSocket client that records every frame: `next(match)` waits for the first frame not
 * yet taken that matches, `none(match, ms)` checks that none arrives within a while.
 */
export class RtClient {
  readonly frames: Frame[] = [];
  private taken = new Set<Frame>();
  private waiters: (() => void)[] = [];
  closed?: { code: number; reason: string };
  readonly opened: Promise<void>;

  constructor(
    url: string,
    readonly socket = new WebSocket(url),
  ) {
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.on('message', (data) => {
      this.frames.push(JSON.parse((data as Buffer).toString("utf8")) as Frame);
      this.notify();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.notify();
    });
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<RtClient> {
    const client = new RtClient(url, new WebSocket(url, { headers }));
    await client.opened;
    await client.next((f) => f.type === 'welcome');
    return client;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame not taken yet that matches; fails after `ms`. */
  async next(match: (f: Frame) => boolean, ms = 10_000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find((f) => !this.taken.has(f) && match(f));
      if (found) {
        this.taken.add(found);
        return found;
      }
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) while waiting; frames: ${JSON.stringify(this.frames)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${ms} ms; frames: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a frame with a ref and waits for the answer to it. */
  async request(frame: Record<string, unknown>): Promise<Frame> {
    const ref = `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...frame, ref });
    return this.next((f) => f.ref === ref);
  }

  async subscribe(frame: Record<string, unknown>): Promise<Frame> {
    const answer = await this.request({ type: 'subscribe', ...frame });
    if (answer.type !== 'subscribed') throw new Error(`subscribe failed: ${JSON.stringify(answer)}`);
    return answer;
  }

  /** Events of one subscription received so far, taken or not. */
  events(sub: string): Frame[] {
    return this.frames.filter((f) => f.type === 'event' && f.sub === sub);
  }

  async waitClosed(ms = 15_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.closed) throw new Error('not closed');
    return this.closed;
  }

  close(): void {
    this.socket.terminate();
  }
}
