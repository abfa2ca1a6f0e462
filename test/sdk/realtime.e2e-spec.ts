import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { BaasClient, FileEvent, RealtimeEvent, WebSocketLike } from '../../packages/sdk/src/index.js';
import { isBaasError } from '../../packages/sdk/src/index.js';
import { listeningApi } from '../realtime/support.js';
import { SERVICE_KEY } from '../support/config.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { PASSWORD, sdkClients, uniqueEmail } from './support.js';

/** The SDK's realtime client against the real api (a real WebSocket, Node's global one). */

type Api = Awaited<ReturnType<typeof listeningApi>>;
let api: Api;
let clients: ReturnType<typeof sdkClients>;
let name: string;

/** Node's WebSocket, recording what the SDK sends. */
const sent: Record<string, unknown>[] = [];
class RecordingWebSocket extends WebSocket {
  override send(data: string): void {
    sent.push(JSON.parse(data) as Record<string, unknown>);
    super.send(data);
  }
}

async function signedIn(options: Parameters<ReturnType<typeof sdkClients>['app']>[0] = {}): Promise<BaasClient> {
  const client = clients.app({ realtime: { reconnect: { baseDelayMs: 50, maxDelayMs: 200 } }, ...options });
  await client.auth.signUp({ email: uniqueEmail('rt'), password: PASSWORD });
  return client;
}

function collect<T extends object>() {
  const events: RealtimeEvent<T>[] = [];
  return {
    events,
    push: (e: RealtimeEvent<T>) => void events.push(e),
    async until(count: number): Promise<RealtimeEvent<T>[]> {
      await expect.poll(() => events.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(count);
      return events;
    },
  };
}

let storageDir: string;

beforeAll(async () => {
  storageDir = await mkdtemp(join(tmpdir(), 'baas-sdk-rt-'));
  api = await listeningApi({ STORAGE_LOCAL_DIR: storageDir });
  clients = sdkClients(api.http);
  name = `sdk_rt_${Math.random().toString(36).slice(2, 8)}`;
  await clients.service.admin.collections.create({
    name,
    fields: [{ name: 'score', type: 'number' }],
    rules: { list: 'authenticated', read: 'authenticated', create: 'authenticated', update: 'authenticated', delete: 'authenticated' },
  });
});

afterAll(async () => {
  clients?.expectContractKept();
  await api?.app.close();
  if (storageDir) await rm(storageDir, { recursive: true, force: true });
});

describe('client.realtime', () => {
  it('subscribes with a filter, receives events with the document, unsubscribes', async () => {
    const client = await signedIn();
    const got = collect<{ score: number }>();
    const sub = client.realtime.subscribe<{ score: number }>({ collection: name, filter: { score: { $gte: 3 } } }, got.push);
    await sub.ready;
    expect(client.realtime.state).toBe('open');
    const low = await clients.service.collection<{ score: number }>(name).create({ score: 1 });
    const high = await clients.service.collection<{ score: number }>(name).create({ score: 5 });
    const [event] = await got.until(1);
    expect(event).toMatchObject({ event: 'create', collection: name, documentId: high.id, document: { id: high.id, score: 5 } });
    expect(got.events.some((e) => e.documentId === low.id)).toBe(false);
    expect(sub.lastEventId).toBe(event!.id);
    await clients.service.collection<{ score: number }>(name).update(high.id, { score: 0 });
    expect((await got.until(2))[1]).toMatchObject({ event: 'leave', documentId: high.id });
    sub.unsubscribe();
    await expect.poll(() => client.realtime.state).toBe('closed');
  });

  it('follows the files of a bucket: ready and deleted', async () => {
    const bucket = `sdk-rt-${Math.random().toString(36).slice(2, 8)}`;
    await clients.service.admin.buckets.create({ name: bucket, public: true });
    const client = await signedIn();
    const events: FileEvent[] = [];
    const sub = client.realtime.subscribeFiles(bucket, (e) => void events.push(e));
    await sub.ready;
    // A multipart upload straight to the api (the SDK's upload goes through PUBLIC_URL, unknown for a port-0 api).
    const uploaded = await request(api.app.getHttpServer())
      .post(`/v1/storage/buckets/${bucket}/files`)
      .set('x-api-key', SERVICE_KEY)
      .field('key', 'hello.txt')
      .attach('file', Buffer.from('hello'), { filename: 'hello.txt', contentType: 'text/plain' });
    expect(uploaded.status).toBe(201);
    const file = uploaded.body as { id: string };
    await expect.poll(() => events.length, { timeout: 15_000 }).toBe(1);
    expect(events[0]).toMatchObject({ event: 'create', bucket, fileId: file.id, file: { id: file.id, key: 'hello.txt', size: 5 } });
    await clients.service.storage.remove(file.id);
    await expect.poll(() => events.length, { timeout: 15_000 }).toBe(2);
    expect(events[1]).toMatchObject({ event: 'delete', bucket, fileId: file.id });
    expect(sub.lastEventId).toBe(events[1]!.id);
    client.realtime.close();
  });

  it('rejects a refused subscription with the error code, and keeps the others', async () => {
    const client = await signedIn();
    const errors: string[] = [];
    const bad = client.realtime.subscribe({ collection: 'no_such_collection' }, () => undefined, { onError: (e) => errors.push(e.code) });
    const good = client.realtime.subscribe({ collection: name, filter: { nope: 1 } }, () => undefined, { onError: (e) => errors.push(e.code) });
    const fine = collect();
    const ok = client.realtime.subscribe({ collection: name }, fine.push);
    await expect(bad.ready).rejects.toSatisfy((e: unknown) => isBaasError(e, 'COLLECTION_NOT_FOUND'));
    await expect(good.ready).rejects.toSatisfy((e: unknown) => isBaasError(e, 'INVALID_FILTER'));
    await ok.ready;
    expect(errors.sort()).toEqual(['COLLECTION_NOT_FOUND', 'INVALID_FILTER']);
    const doc = await clients.service.collection(name).create({ score: 1 });
    expect((await fine.until(1))[0]!.documentId).toBe(doc.id);
    client.realtime.close();
  });

  it('reconnects after a lost connection and resumes after the last event, in order, without duplicates', async () => {
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(api.http).port));
    await proxy.start();
    const viaProxy = sdkClients(`http://127.0.0.1:${proxy.port}`);
    const client = viaProxy.app({ realtime: { reconnect: { baseDelayMs: 50, maxDelayMs: 200 } } });
    await client.auth.signUp({ email: uniqueEmail('rt'), password: PASSWORD });
    const states: string[] = [];
    client.realtime.onStateChange((s) => states.push(s));
    const got = collect();
    const sub = client.realtime.subscribe({ collection: name }, got.push);
    await sub.ready;
    const first = await clients.service.collection(name).create({ score: 1 });
    await got.until(1);
    await proxy.stop();
    const missed = [await clients.service.collection(name).create({ score: 2 }), await clients.service.collection(name).create({ score: 3 })];
    await proxy.restart();
    const events = await got.until(3);
    expect(events.map((e) => e.documentId)).toEqual([first.id, ...missed.map((d) => d.id)]);
    const live = await clients.service.collection(name).create({ score: 4 });
    expect((await got.until(4)).map((e) => e.documentId)).toEqual([first.id, ...missed.map((d) => d.id), live.id]);
    expect(states).toContain('connecting');
    expect(states.at(-1)).toBe('open');
    client.realtime.close();
    await proxy.stop();
  });

  it('sends refreshed tokens on the open connection; after a server-side expiry it refreshes and gets what it missed', async () => {
    const client = await signedIn({ realtime: { WebSocket: RecordingWebSocket as unknown as new (url: string) => WebSocketLike } });
    const session = (await client.auth.getSession())!;
    // A session whose access token lives 2 s (the server's minimum TTL is 30 s).
    const config = api.app.get<AppConfig>(APP_CONFIG);
    const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string; email: string; roles: string[] };
    const short = await api.app.get(JwtService).signAsync(
      { sid: claims.sid, email: claims.email, roles: claims.roles },
      { subject: session.user.id, algorithm: 'HS256', issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, expiresIn: 2, secret: config.JWT_SECRET },
    );
    await client.auth.setSession({ user: session.user, accessToken: short, refreshToken: session.refreshToken, expiresIn: 2 });
    const errors: string[] = [];
    client.realtime.onError((e) => errors.push(e.code));
    const got = collect();
    const sub = client.realtime.subscribe({ collection: name }, got.push);
    await sub.ready;
    expect(sent.filter((f) => f.type === 'auth').map((f) => f.token)).toEqual([short]);
    await expect.poll(() => errors, { timeout: 15_000 }).toContain('TOKEN_EXPIRED');
    const whilePaused = await clients.service.collection(name).create({ score: 7 });
    // The SDK refreshed the session and sent the new token: the paused subscription resumes.
    const events = await got.until(1);
    expect(events[0]!.documentId).toBe(whilePaused.id);
    const tokens = sent.filter((f) => f.type === 'auth').map((f) => f.token);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    expect(tokens.at(-1)).not.toBe(short);
    expect(tokens.at(-1)).toBe((await client.auth.getSession())!.accessToken);
    client.realtime.close();
  });
});
