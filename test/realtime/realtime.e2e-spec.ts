import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { RealtimeService } from '../../apps/api/src/realtime/realtime.service.js';
import { defineCollection, service, uniqueName } from '../collections/support.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { connectAs, createDoc, type Frame, listeningApi, patchDoc, RtClient } from './support.js';

/**
 * Realtime over real sockets with two api apps sharing Postgres and Redis (two replicas):
 * subscribers connect to A, writes go through B (docs/realtime.md).
 */

type Api = Awaited<ReturnType<typeof listeningApi>>;
let a: Api;
let b: Api;
let owner: TestUser;
let other: TestUser;
let member: TestUser;

const everyone = { list: 'public', read: 'public', create: 'authenticated', update: 'authenticated', delete: 'authenticated' } as const;

const create = createDoc;
const patch = patchDoc;

/** A connection to A as this principal (undefined: anonymous). */
const connect = (who: TestUser | 'service' | undefined, api: Api = a): Promise<RtClient> => connectAs(api.ws, who);

/** An access token of the user's session that expires in `seconds` (the server's minimum TTL is 30 s). */
async function shortToken(user: TestUser, seconds: number): Promise<string> {
  const config = a.app.get<AppConfig>(APP_CONFIG);
  const claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string; email: string; roles: string[] };
  return a.app.get(JwtService).signAsync(
    { sid: claims.sid, email: claims.email, roles: claims.roles },
    { subject: user.id, algorithm: 'HS256', issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, expiresIn: seconds, secret: config.JWT_SECRET },
  );
}

let storageDir: string;

beforeAll(async () => {
  storageDir = await mkdtemp(join(tmpdir(), 'baas-rt-'));
  a = await listeningApi({ STORAGE_LOCAL_DIR: storageDir });
  b = await listeningApi({ STORAGE_LOCAL_DIR: storageDir });
  [owner, other, member] = await Promise.all([createUser(a.app), createUser(a.app), createUser(a.app, { roles: ['editors'] })]);
});

afterAll(async () => {
  await a?.app.close();
  await b?.app.close();
  if (storageDir) await rm(storageDir, { recursive: true, force: true });
});

describe('events across replicas, per subscriber', () => {
  it('sends each subscriber exactly the documents GET would show it (owner, other, role member, admin, anonymous, service)', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_acl'), fields: [{ name: 'title', type: 'string' }], rules: everyone });
    const admin = await createUser(a.app, { roles: ['admin'] });
    const who = { owner, other, member, admin, anonymous: undefined, service: 'service' } as const;
    const clients = Object.fromEntries(await Promise.all(Object.entries(who).map(async ([k, v]) => [k, await connect(v)] as const))) as Record<keyof typeof who, RtClient>;
    for (const client of Object.values(clients)) await client.subscribe({ collection: name, sub: 'all' });

    const pub = await create(b, name, bearer(owner), { title: 'public' });
    const editors = await create(b, name, bearer(owner), { title: 'editors', acl: { read: ['role:editors'] } });
    const mine = await create(b, name, bearer(owner), { title: 'mine', acl: { read: [] } });
    const others = await create(b, name, bearer(other), { title: 'other', acl: { read: [`user:${member.id}`] } });
    const last = await create(b, name, bearer(owner), { title: 'last' });

    const expected: Record<keyof typeof who, string[]> = {
      owner: [pub, editors, mine, last],
      other: [pub, others, last],
      member: [pub, editors, others, last],
      anonymous: [pub, last],
      admin: [pub, editors, mine, others, last],
      service: [pub, editors, mine, others, last],
    };
    for (const [k, client] of Object.entries(clients) as [keyof typeof who, RtClient][]) {
      await client.next((f) => f.type === 'event' && f.documentId === last);
      const got = client.events('all').map((f) => f.documentId);
      expect(got, k).toEqual(expected[k]);
      // The document as GET shows it to this caller, system fields included.
      const event = client.events('all').find((f) => f.documentId === pub)!;
      const viaGet = await request(b.app.getHttpServer()).get(`/v1/collections/${name}/documents/${pub}`).set(k === 'service' ? service : k === 'anonymous' ? {} : bearer(who[k])).expect(200);
      expect(event.document).toEqual(viaGet.body);
      expect(event.event).toBe('create');
      expect(String(event.id)).toMatch(/^\d+-\d+$/);
      client.close();
    }
  });

  it('refuses subscriptions to a collection the caller may not list, with the error codes of HTTP', async () => {
    const name = await defineCollection(a.app, {
      name: uniqueName('rt_role'),
      fields: [{ name: 'title', type: 'string' }],
      rules: { list: 'role:editors', read: 'role:editors', create: 'role:editors', update: 'role:editors', delete: 'role:editors' },
    });
    const anonymous = await connect(undefined);
    expect(await anonymous.request({ type: 'subscribe', collection: name })).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });
    const stranger = await connect(other);
    expect(await stranger.request({ type: 'subscribe', collection: name })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    const editor = await connect(member);
    await editor.subscribe({ collection: name, sub: 'x' });
    const id = await create(b, name, bearer(member), { title: 't' });
    expect(await editor.next((f) => f.type === 'event')).toMatchObject({ sub: 'x', documentId: id, event: 'create' });
    for (const c of [anonymous, stranger, editor]) c.close();
  });

  it('sends leave when a document stops matching or stops being readable, never its new content; delete when deleted', async () => {
    const name = await defineCollection(a.app, {
      name: uniqueName('rt_leave'),
      fields: [
        { name: 'score', type: 'number' },
        { name: 'secret', type: 'string' },
      ],
      rules: everyone,
    });
    const client = await connect(other);
    await client.subscribe({ collection: name, sub: 'high', filter: { score: { $gte: 3 } }, fields: ['score'] });
    const id = await create(b, name, bearer(owner), { score: 5, secret: 's1' });
    const created = await client.next((f) => f.type === 'event' && f.documentId === id);
    // `fields` as in a GET: id and version always, then only the named fields.
    expect(created.document).toEqual({ id, version: 1, score: 5 });

    await patch(b, name, id, bearer(owner), { score: 1, secret: 'no longer matching' });
    expect(await client.next((f) => f.type === 'event')).toEqual({ type: 'event', sub: 'high', id: expect.any(String), event: 'leave', collection: name, documentId: id });
    await patch(b, name, id, bearer(owner), { score: 2 }); // still not matching: nothing
    await patch(b, name, id, bearer(owner), { score: 9 }); // matching again: an update with the content
    expect(await client.next((f) => f.type === 'event')).toMatchObject({ event: 'update', documentId: id, document: { score: 9, version: 4 } });
    await patch(b, name, id, bearer(owner), { acl: { read: [] } }); // unreadable for `other`
    const leave = await client.next((f) => f.type === 'event');
    expect(leave).toMatchObject({ event: 'leave', documentId: id });
    expect(leave).not.toHaveProperty('document');
    await patch(b, name, id, bearer(owner), { score: 10, secret: 'hidden from other' });
    await patch(b, name, id, bearer(owner), { acl: null });
    expect(await client.next((f) => f.type === 'event')).toMatchObject({ event: 'update', documentId: id, document: { score: 10 } });
    await request(b.app.getHttpServer()).delete(`/v1/collections/${name}/documents/${id}`).set(bearer(owner)).expect(204);
    expect(await client.next((f) => f.type === 'event')).toMatchObject({ event: 'delete', documentId: id });
    expect(JSON.stringify(client.frames)).not.toContain('hidden from other');
    expect(JSON.stringify(client.frames)).not.toContain('no longer matching');
    client.close();
  });

  it('follows one document when subscribed with an id, and sends events of a transaction batch only after it commits', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_one'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const id = await create(b, name, service, { n: 1 });
    const client = await connect(owner);
    await client.subscribe({ collection: name, sub: 'one', id });
    await create(b, name, service, { n: 2 });
    // A failing transaction: its update is rolled back, no event.
    await request(b.app.getHttpServer())
      .post('/v1/batch')
      .set(service)
      .send({ transaction: true, operations: [{ op: 'update', collection: name, id, data: { n: 100 } }, { op: 'get', collection: name, id: '00000000-0000-4000-8000-000000000000' }] })
      .expect(404);
    await request(b.app.getHttpServer())
      .post('/v1/batch')
      .set(service)
      .send({ transaction: true, operations: [{ op: 'update', collection: name, id, data: { n: 3 } }] })
      .expect(200);
    const event = await client.next((f) => f.type === 'event');
    expect(event).toMatchObject({ event: 'update', documentId: id, document: { n: 3 } });
    expect(client.events('one')).toHaveLength(1);
    await request(b.app.getHttpServer()).delete(`/v1/collections/${name}/documents/${id}`).set(service).expect(204);
    expect(await client.next((f) => f.type === 'event')).toEqual({ type: 'event', sub: 'one', id: expect.any(String), event: 'delete', collection: name, documentId: id });
    client.close();
  });

  it('checks rules, roles and the definition as they are when each event is sent', async () => {
    const name = await defineCollection(a.app, {
      name: uniqueName('rt_live'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'secret', type: 'string' },
      ],
      rules: { list: 'role:editors', read: 'role:editors', create: 'admin', update: 'admin', delete: 'admin' },
    });
    const editor = await createUser(a.app, { roles: ['editors'] });
    const client = await connect(editor);
    await client.subscribe({ collection: name, sub: 'e' });
    const first = await create(b, name, service, { title: 'first', secret: 'kept' });
    await client.next((f) => f.type === 'event' && f.documentId === first);

    // The role is removed (through B): events stop at once, without a new token.
    await request(b.app.getHttpServer()).patch(`/v1/admin/users/${editor.id}`).set(service).send({ roles: [] }).expect(200);
    const unseen = await create(b, name, service, { title: 'while not an editor' });
    await request(b.app.getHttpServer()).patch(`/v1/admin/users/${editor.id}`).set(service).send({ roles: ['editors'] }).expect(200);
    const seen = await create(b, name, service, { title: 'editor again' });
    await client.next((f) => f.type === 'event' && f.documentId === seen);
    expect(client.events('e').map((f) => f.documentId)).toEqual([first, seen]);
    expect(client.events('e').some((f) => f.documentId === unseen)).toBe(false);

    // A field removed from the definition is hidden from events as from GET.
    await request(a.app.getHttpServer()).patch(`/v1/collections/${name}`).set(service).send({ fields: [{ name: 'title', type: 'string' }] }).expect(200);
    await patch(b, name, first, service, { title: 'renamed' });
    const update = await client.next((f) => f.type === 'event' && f.event === 'update');
    const viaGet = await request(a.app.getHttpServer()).get(`/v1/collections/${name}/documents/${first}`).set(bearer(editor)).expect(200);
    expect(update.document).toEqual(viaGet.body);
    expect(update.document).not.toHaveProperty('secret');
    client.close();
  });

  it('sends owner-rule collections only to the owner (and the service role)', async () => {
    const name = await defineCollection(a.app, {
      name: uniqueName('rt_owner'),
      fields: [{ name: 'title', type: 'string' }],
      rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const [mine, theirs, svc] = [await connect(owner), await connect(other), await connect('service')];
    for (const c of [mine, theirs, svc]) await c.subscribe({ collection: name, sub: 'o' });
    const ownerDoc = await create(b, name, bearer(owner), { title: 'owner' });
    const otherDoc = await create(b, name, bearer(other), { title: 'other' });
    // Events reach a connection in order: a later own document proves the other one was skipped.
    const ownerLast = await create(b, name, bearer(owner), { title: 'owner, last' });
    const otherLast = await create(b, name, bearer(other), { title: 'other, last' });
    await mine.next((f) => f.type === 'event' && f.documentId === ownerLast);
    await theirs.next((f) => f.type === 'event' && f.documentId === otherLast);
    await svc.next((f) => f.type === 'event' && f.documentId === otherLast);
    expect(mine.events('o').map((f) => f.documentId)).toEqual([ownerDoc, ownerLast]);
    expect(theirs.events('o').map((f) => f.documentId)).toEqual([otherDoc, otherLast]);
    expect(svc.events('o').map((f) => f.documentId)).toEqual([ownerDoc, otherDoc, ownerLast, otherLast]);
    for (const c of [mine, theirs, svc]) c.close();
  });

  it('a replica started after the subscription publishes its writes too (interest read at start)', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_late'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const client = await connect('service');
    await client.subscribe({ collection: name });
    const late = await listeningApi();
    try {
      const id = await create(late, name, service, { n: 1 });
      expect(await client.next((f) => f.type === 'event')).toMatchObject({ event: 'create', documentId: id });
    } finally {
      await late.app.close();
      client.close();
    }
  });

  it('publishes nothing for a collection nobody subscribes to', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_quiet'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    await create(b, name, service, { n: 1 });
    const redis = new Redis(inject('redisUrl'));
    try {
      expect(await redis.exists(`${inject('queuePrefix')}:rt:feed:${name}`)).toBe(0);
      const client = await connect('service');
      await client.subscribe({ collection: name });
      await create(b, name, service, { n: 2 });
      await client.next((f) => f.type === 'event');
      expect(await redis.xlen(`${inject('queuePrefix')}:rt:feed:${name}`)).toBe(1);
      client.close();
    } finally {
      redis.disconnect();
    }
  });
});

describe('metrics', () => {
  it('exposes realtime connections, subscriptions, events sent and closes on /v1/metrics', async () => {
    const client = await connect('service');
    await client.subscribe({ collection: (await defineCollection(a.app, { name: uniqueName('rt_metrics'), fields: [{ name: 'n', type: 'integer' }], rules: everyone })), sub: 'm' });
    const res = await request(a.app.getHttpServer()).get('/v1/metrics').set(service).expect(200);
    const value = (line: RegExp) => Number(line.exec(res.text)?.[1] ?? NaN);
    expect(value(/^realtime_connections (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^realtime_subscriptions (\d+)$/m)).toBeGreaterThanOrEqual(1);
    // Earlier tests of this file sent create events and closed connections through A.
    expect(value(/^realtime_events_sent_total\{kind="create"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(res.text).toMatch(/^realtime_closes_total\{code="\d+"\} \d+$/m);
    client.close();
  });
});

describe('files of a bucket', () => {
  it('sends a file that became ready or was deleted to the subscribers that may read it, as GET shows it', async () => {
    const bucket = `rt-files-${Math.random().toString(36).slice(2, 8)}`;
    await request(b.app.getHttpServer()).post('/v1/storage/buckets').set(service).send({ name: bucket, public: false }).expect(201);
    const clients = { owner: await connect(owner), other: await connect(other), service: await connect('service'), anonymous: await connect(undefined) };
    for (const c of Object.values(clients)) await c.subscribe({ bucket, sub: 'f' });
    const upload = async (user: TestUser, name: string) => {
      const res = await request(b.app.getHttpServer()).post(`/v1/storage/buckets/${bucket}/files`).set(bearer(user)).attach('file', Buffer.from(`hello ${name}`), { filename: name, contentType: 'text/plain' });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const ownerFile = await upload(owner, 'owner.txt');
    const otherFile = await upload(other, 'other.txt');
    await request(b.app.getHttpServer()).delete(`/v1/storage/files/${ownerFile}`).set(bearer(owner)).expect(204);
    // A last file of `other` that everyone who may read it receives after the others.
    // Last files: events reach a connection in order, so these prove the earlier ones were decided.
    const last = await upload(other, 'last.txt');
    const ownerLast = await upload(owner, 'owner-last.txt');
    await clients.other.next((f) => f.type === 'event' && f.fileId === last);
    await clients.owner.next((f) => f.type === 'event' && f.fileId === ownerLast);
    await clients.service.next((f) => f.type === 'event' && f.fileId === ownerLast);
    await new Promise((resolve) => setTimeout(resolve, 300)); // anonymous may read none of them
    const seen = (c: RtClient) => c.events('f').map((f) => `${String(f.event)}:${String(f.fileId)}`);
    expect(seen(clients.owner)).toEqual([`create:${ownerFile}`, `delete:${ownerFile}`, `create:${ownerLast}`]);
    expect(seen(clients.other)).toEqual([`create:${otherFile}`, `create:${last}`]);
    expect(seen(clients.service)).toEqual([`create:${ownerFile}`, `create:${otherFile}`, `delete:${ownerFile}`, `create:${last}`, `create:${ownerLast}`]);
    expect(seen(clients.anonymous)).toEqual([]);
    const event = clients.other.events('f')[0]!;
    const viaGet = await request(b.app.getHttpServer()).get(`/v1/storage/files/${otherFile}`).set(bearer(other)).expect(200);
    expect(event).toMatchObject({ bucket, event: 'create', id: expect.stringMatching(/^\d+-\d+$/) });
    expect(event.file).toEqual(viaGet.body);

    // The same over SSE.
    const stream = await new Promise<IncomingMessage>((resolve, reject) => httpGet(`${a.http}/v1/realtime/sse?bucket=${bucket}`, { headers: bearer(owner) }, resolve).on('error', reject));
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    await expect.poll(() => text, { timeout: 10_000 }).toContain('event: subscribed');
    const sseFile = await upload(owner, 'sse.txt');
    await expect.poll(() => text, { timeout: 10_000 }).toContain(`"fileId":"${sseFile}"`);
    stream.destroy();
    const both = await request(a.app.getHttpServer()).get(`/v1/realtime/sse?bucket=${bucket}&collection=x`).set(bearer(owner));
    expect(both.status).toBe(400);

    expect(await clients.owner.request({ type: 'subscribe', bucket: 'no-such-bucket' })).toMatchObject({ type: 'error', code: 'BUCKET_NOT_FOUND' });
    expect(await clients.owner.request({ type: 'subscribe', bucket, filter: { a: 1 } })).toMatchObject({ type: 'error', code: 'BAD_FRAME' });
    expect(await clients.owner.request({ type: 'subscribe', bucket, collection: 'x' })).toMatchObject({ type: 'error', code: 'BAD_FRAME' });
    for (const c of Object.values(clients)) c.close();
  });
});

describe('resume', () => {
  it('replays what a subscription missed after its last event id, in order, then goes on live', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_resume'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const first = await connect(owner);
    await first.subscribe({ collection: name, sub: 's' });
    await create(b, name, bearer(owner), { n: 1 });
    const seen = await first.next((f) => f.type === 'event');
    first.close();
    const missed = [await create(b, name, bearer(owner), { n: 2 }), await create(b, name, bearer(owner), { n: 3 })];

    const again = await connect(owner);
    const answer = await again.subscribe({ collection: name, sub: 's', since: seen.id });
    expect(answer.lastEventId).toBe(seen.id);
    const replayed = [await again.next((f) => f.type === 'event'), await again.next((f) => f.type === 'event')];
    expect(replayed.map((f) => f.documentId)).toEqual(missed);
    const live = await create(b, name, bearer(owner), { n: 4 });
    expect((await again.next((f) => f.type === 'event')).documentId).toBe(live);
    expect(again.events('s').map((f) => f.documentId)).toEqual([...missed, live]);
    again.close();
  });

  it('answers resync when the last event id is older than the window or unknown', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_resync'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const client = await connect(owner);
    await client.subscribe({ collection: name, sub: 'old', since: '1000-0' });
    expect(await client.next((f) => f.type === 'resync')).toMatchObject({ sub: 'old', reason: expect.stringContaining('older than the resume window') });
    await client.subscribe({ collection: name, sub: 'future', since: `${Date.now() + 3_600_000}-0` });
    expect(await client.next((f) => f.type === 'resync')).toMatchObject({ sub: 'future', reason: expect.stringContaining('unknown') });
    // Both are live after the resync.
    const id = await create(b, name, bearer(owner), { n: 1 });
    await client.next((f) => f.type === 'event' && f.sub === 'old' && f.documentId === id);
    await client.next((f) => f.type === 'event' && f.sub === 'future' && f.documentId === id);
    client.close();
  });
});

describe('credentials on an open connection', () => {
  it('pauses on token expiry with TOKEN_EXPIRED, and a refresh resumes with what was missed', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_exp'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const client = await RtClient.connect(a.ws);
    const authed = await client.request({ type: 'auth', token: await shortToken(owner, 2) });
    expect(authed).toMatchObject({ type: 'authed', caller: 'user', userId: owner.id, expiresAt: expect.any(String) });
    await client.subscribe({ collection: name, sub: 's' });
    expect(await client.next((f) => f.type === 'error', 15_000)).toMatchObject({ code: 'TOKEN_EXPIRED' });
    const whilePaused = await create(b, name, service, { n: 1 });
    // Another replica's write reached A (seen by a second subscriber) but not the paused one.
    const witness = await connect('service');
    await witness.subscribe({ collection: name, sub: 'w' });
    const after = await create(b, name, service, { n: 2 });
    await witness.next((f) => f.type === 'event' && f.documentId === after);
    expect(client.events('s')).toEqual([]);
    // Another user's token cannot take over the connection.
    expect(await client.request({ type: 'auth', token: other.accessToken })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    expect(await client.request({ type: 'refresh', token: owner.accessToken })).toMatchObject({ type: 'authed', userId: owner.id });
    await client.next((f) => f.type === 'event' && f.documentId === after);
    expect(client.events('s').map((f) => f.documentId)).toEqual([whilePaused, after]);
    client.close();
    witness.close();
  });

  it('closes the connection of a revoked session (4001, SESSION_REVOKED)', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_revoke'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const user = await createUser(a.app);
    const client = await connect(user);
    await client.subscribe({ collection: name });
    await create(b, name, service, { n: 1 });
    await client.next((f) => f.type === 'event');
    await request(b.app.getHttpServer()).post('/v1/auth/logout').set(bearer(user)).expect(204);
    await create(b, name, service, { n: 2 });
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'SESSION_REVOKED' });
    expect((await client.waitClosed()).code).toBe(4001);
    expect(client.events('s1')).toHaveLength(1);
  });

  it('closes a connection whose admin-created API key is revoked within a ping interval, and one that stops answering pings', async () => {
    const d = await listeningApi({ REALTIME_PING_INTERVAL_MS: '300' });
    try {
      const key = await request(d.app.getHttpServer()).post('/v1/admin/api-keys').set(service).send({ name: 'realtime' }).expect(201);
      const client = await RtClient.connect(d.ws);
      expect(await client.request({ type: 'auth', apiKey: key.body.key })).toMatchObject({ type: 'authed', caller: 'service' });
      await client.subscribe({ collection: (await defineCollection(a.app, { name: uniqueName('rt_key'), fields: [{ name: 'n', type: 'integer' }], rules: everyone })) });
      // Still open after a few ping intervals while the key is valid (the client answers pings).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(client.closed).toBeUndefined();
      await request(b.app.getHttpServer()).delete(`/v1/admin/api-keys/${key.body.id}`).set(service).expect(204);
      expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'INVALID_API_KEY' });
      expect((await client.waitClosed()).code).toBe(4001);

      // A client that stops answering pings is dropped by the server.
      const silent = await RtClient.connect(d.ws);
      const realtime = d.app.get(RealtimeService);
      const open = realtime.size;
      (silent.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      await expect.poll(() => realtime.size, { timeout: 15_000 }).toBeLessThan(open);
      silent.close();
    } finally {
      await d.app.close();
    }
  });

  it('refuses invalid credentials in the upgrade headers and in auth frames', async () => {
    const viaHeader = await RtClient.connect(a.ws, { authorization: 'Bearer not.a.token' });
    expect(await viaHeader.next((f) => f.type === 'error')).toMatchObject({ code: 'INVALID_TOKEN' });
    expect((await viaHeader.waitClosed()).code).toBe(4001);
    const viaFrame = await RtClient.connect(a.ws);
    expect(await viaFrame.request({ type: 'auth', apiKey: 'wrong' })).toMatchObject({ type: 'error', code: 'INVALID_API_KEY' });
    expect(await viaFrame.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    viaFrame.close();
  });
});

describe('bad input', () => {
  it('answers malformed frames with error frames and keeps the connection usable', async () => {
    const name = await defineCollection(a.app, {
      name: uniqueName('rt_bad'),
      fields: [
        { name: 'n', type: 'integer' },
        { name: 'tags', type: 'array' },
      ],
      rules: everyone,
    });
    const client = await connect(owner);
    const cases: [unknown, string][] = [
      ['not json', 'BAD_FRAME'],
      ['[1,2]', 'BAD_FRAME'],
      [{ type: 'nope' }, 'BAD_FRAME'],
      [{ type: 'subscribe' }, 'BAD_FRAME'],
      [{ type: 'subscribe', collection: name, extra: 1 }, 'BAD_FRAME'],
      [{ type: 'subscribe', collection: name, since: 'yesterday' }, 'BAD_FRAME'],
      [{ type: 'subscribe', collection: name, id: 'not-a-uuid' }, 'BAD_FRAME'],
      [{ type: 'subscribe', collection: 'no_such_collection' }, 'COLLECTION_NOT_FOUND'],
      [{ type: 'subscribe', collection: name, filter: { missing: 1 } }, 'INVALID_FILTER'],
      [{ type: 'subscribe', collection: name, filter: { n: { $regex: 'x' } } }, 'INVALID_FILTER'],
      [{ type: 'subscribe', collection: name, filter: '{"n":' }, 'INVALID_FILTER'],
      [`{"type":"subscribe","collection":"${name}","filter":{"__proto__":{"polluted":true},"n":1}}`, 'BAD_FRAME'],
      [`{"type":"subscribe","collection":"${name}","filter":{"n":{"constructor":1}}}`, 'BAD_FRAME'],
      [{ type: 'subscribe', collection: name, fields: ['nope'] }, 'INVALID_FIELDS'],
      [{ type: 'unsubscribe', sub: 'never' }, 'SUBSCRIPTION_NOT_FOUND'],
      [{ type: 'auth' }, 'BAD_FRAME'],
      [{ type: 'refresh' }, 'BAD_FRAME'],
      [{ type: 'refresh', token: 'x.y.z' }, 'INVALID_TOKEN'],
      [{ type: 'ping', ref: 'x'.repeat(100) }, 'BAD_FRAME'],
      [{ type: 'subscribe', collection: name, filter: { n: 'x'.repeat(70_000) } }, 'FRAME_TOO_LARGE'],
    ];
    for (const [frame, code] of cases) {
      client.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      const error = await client.next((f) => f.type === 'error');
      expect(error, JSON.stringify(frame).slice(0, 100)).toMatchObject({ code, message: expect.any(String) });
      expect(JSON.stringify(error)).not.toMatch(/at .*\.ts|stack|SELECT/);
    }
    // A flood of frames is answered with RATE_LIMITED for the excess, and the connection stays.
    for (let i = 0; i < 600; i++) client.send({ type: 'ping', ref: `flood${i}` });
    await client.next((f) => f.type === 'error' && f.code === 'RATE_LIMITED');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const flooded = client.frames.filter((f) => f.code === 'RATE_LIMITED').length;
    expect(flooded).toBeGreaterThan(0);
    expect(client.frames.find((f) => f.code === 'RATE_LIMITED')?.ref).toMatch(/^flood\d+$/);
    expect(client.frames.filter((f) => f.type === 'pong').length + flooded).toBe(600);
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.next((f) => f.type === 'error' && f.code !== 'RATE_LIMITED')).toMatchObject({ code: 'BAD_FRAME' });
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    // Still subscribes and receives.
    await client.subscribe({ collection: name, sub: 'ok', filter: { tags: { $contains: 'a' } } });
    expect(await client.request({ type: 'subscribe', collection: name, sub: 'ok' })).toMatchObject({ type: 'error', code: 'SUBSCRIPTION_EXISTS' });
    const id = await create(b, name, service, { n: 1, tags: ['a', 'b'] });
    await create(b, name, service, { n: 2, tags: ['b'] });
    expect(await client.next((f) => f.type === 'event')).toMatchObject({ documentId: id });
    expect(await client.request({ type: 'unsubscribe', sub: 'ok' })).toMatchObject({ type: 'unsubscribed', sub: 'ok' });
    // Nothing more for the removed subscription (a second one proves the event was sent).
    await client.subscribe({ collection: name, sub: 'witness' });
    const later = await create(b, name, service, { n: 3, tags: ['a'] });
    await client.next((f) => f.type === 'event' && f.sub === 'witness' && f.documentId === later);
    expect(client.events('ok').map((f) => f.documentId)).toEqual([id]);
    client.close();
  });
});

describe('limits and backpressure', () => {
  let c: Api;
  beforeAll(async () => {
    c = await listeningApi({
      REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2',
      REALTIME_MAX_CONNECTIONS_PER_USER: '2',
      REALTIME_MAX_BUFFER_BYTES: '65536',
    });
  });
  afterAll(async () => {
    await c?.app.close();
  });

  it('limits subscriptions per connection and connections per user (across replicas)', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_lim'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const user = await createUser(a.app);
    const one = await connect(user, c);
    await one.subscribe({ collection: name });
    await one.subscribe({ collection: name });
    expect(await one.request({ type: 'subscribe', collection: name })).toMatchObject({ type: 'error', code: 'SUBSCRIPTION_LIMIT' });
    const two = await connect(user, a); // counted in Redis: the limit holds across replicas
    const three = await RtClient.connect(c.ws);
    expect(await three.request({ type: 'auth', token: user.accessToken })).toMatchObject({ type: 'error', code: 'CONNECTION_LIMIT' });
    expect((await three.waitClosed()).code).toBe(4029);
    // The SSE fallback counts too, and answers over the limit before streaming.
    const sse = await request(c.app.getHttpServer()).get(`/v1/realtime/sse?collection=${name}`).set(bearer(user));
    expect(sse.status).toBe(429);
    expect(sse.body.code).toBe('CONNECTION_LIMIT');
    two.close();
    // A closed connection frees its place.
    const deadline = Date.now() + 10_000;
    let answer: Frame | undefined;
    while (Date.now() < deadline) {
      const next = await RtClient.connect(c.ws);
      answer = await next.request({ type: 'auth', token: user.accessToken });
      if (answer.type === 'authed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer?.type).toBe('authed');
    one.close();
  });

  it('refuses WebSocket upgrades from origins outside CORS_ORIGINS (browsers do not apply CORS to WebSockets)', async () => {
    const d = await listeningApi({ CORS_ORIGINS: 'https://app.example.com' });
    try {
      const refused = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(d.ws, { headers: { origin: 'https://evil.example.net' } });
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('open', () => reject(new Error('opened')));
        socket.once('error', () => undefined);
      });
      expect(refused).toBe(403);
      const allowed = await RtClient.connect(d.ws, { origin: 'https://app.example.com' });
      expect(await allowed.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
      allowed.close();
      const server = await RtClient.connect(d.ws); // no Origin: a server or an app
      server.close();
    } finally {
      await d.app.close();
    }
  });

  it('closes a connection that does not read (4008) and frees it', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_slow'), fields: [{ name: 'text', type: 'string' }], rules: everyone });
    const client = await connect('service', c);
    await client.subscribe({ collection: name });
    const realtime = c.app.get(RealtimeService);
    const before = realtime.size;
    // Stop reading: the kernel buffers fill, then the server's send buffer.
    const socket = (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 12; i++) {
      await request(b.app.getHttpServer())
        .post('/v1/batch')
        .set(service)
        .send({ operations: Array.from({ length: 10 }, () => ({ op: 'create', collection: name, data: { text: big } })) })
        .expect(200);
      if (realtime.size < before) break;
    }
    await expect.poll(() => realtime.size, { timeout: 20_000 }).toBeLessThan(before);
    socket.resume();
    expect((await client.waitClosed()).code).toBe(4008);
  });
});

describe('Server-Sent Events', () => {
  function openSse(path: string, headers: Record<string, string>): Promise<{ res: IncomingMessage; text: () => string }> {
    return new Promise((resolve, reject) => {
      const req = httpGet(`${a.http}${path}`, { headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        resolve({ res, text: () => text });
      });
      req.on('error', reject);
    });
  }

  it('streams one subscription as SSE with event ids, resumes from Last-Event-ID, answers bad requests with JSON errors', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_sse'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const filter = encodeURIComponent(JSON.stringify({ n: { $gt: 1 } }));
    const realtime = a.app.get(RealtimeService);
    const before = realtime.size;
    const stream = await openSse(`/v1/realtime/sse?collection=${name}&filter=${filter}`, bearer(owner));
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toContain('text/event-stream');
    await expect.poll(() => stream.text(), { timeout: 10_000 }).toContain('event: subscribed');
    await create(b, name, service, { n: 1 });
    const id = await create(b, name, service, { n: 2 });
    await expect.poll(() => stream.text(), { timeout: 10_000 }).toContain(id);
    const block = stream.text().split('\n\n').find((b) => b.includes(id))!;
    const eventId = /^id: (\S+)$/m.exec(block)?.[1];
    expect(block).toContain('event: event');
    expect(eventId).toMatch(/^\d+-\d+$/);
    expect(stream.text()).not.toContain('"n":1');
    stream.res.destroy();
    // The server lets go of a stream the client closed.
    await expect.poll(() => realtime.size, { timeout: 10_000 }).toBeLessThanOrEqual(before);

    const missed = await create(b, name, service, { n: 3 });
    const resumed = await openSse(`/v1/realtime/sse?collection=${name}&filter=${filter}`, { ...bearer(owner), 'last-event-id': eventId! });
    await expect.poll(() => resumed.text(), { timeout: 10_000 }).toContain(missed);
    expect(resumed.text()).not.toContain(`"documentId":"${id}"`);
    resumed.res.destroy();

    const bad = await request(a.app.getHttpServer()).get(`/v1/realtime/sse?collection=${name}&filter=%7B`).set(bearer(owner));
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_FILTER');
    const missing = await request(a.app.getHttpServer()).get('/v1/realtime/sse?collection=nope_nope');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('COLLECTION_NOT_FOUND');
    const badToken = await request(a.app.getHttpServer()).get(`/v1/realtime/sse?collection=${name}&access_token=x.y.z`);
    expect(badToken.status).toBe(401);
    expect(badToken.body.code).toBe('INVALID_TOKEN');
    const unknownParam = await request(a.app.getHttpServer()).get(`/v1/realtime/sse?collection=${name}&what=1`);
    expect(unknownParam.status).toBe(400);
  });

  it('ends the stream with TOKEN_EXPIRED when the access token expires', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt_sse_exp'), fields: [{ name: 'n', type: 'integer' }], rules: everyone });
    const stream = await openSse(`/v1/realtime/sse?collection=${name}`, { Authorization: `Bearer ${await shortToken(owner, 2)}` });
    expect(stream.res.statusCode).toBe(200);
    await new Promise((resolve) => stream.res.once('end', resolve));
    expect(stream.text()).toContain('event: subscribed');
    expect(stream.text()).toMatch(/event: error\ndata: \{[^\n]*"code":"TOKEN_EXPIRED"/);
    expect(stream.text()).toContain('event: close');
  });
});
