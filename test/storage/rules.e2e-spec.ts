import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_KEY } from '../support/config.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { PNG } from './fixtures.js';
import { type StorageHarness, startStorageApi } from './harness.js';

const service = { 'x-api-key': SERVICE_KEY };

/** Storage rules per bucket over the key, size, content type and caller; PATCH of a file's acl and key (docs/storage.md). */
describe('storage rules', () => {
  let h: StorageHarness;
  let alice: TestUser;
  let bob: TestUser;
  let moderator: TestUser;
  const api = () => request(h.app.getHttpServer());
  const upload = (bucket: string, key: string, auth: Record<string, string>, data: Buffer = PNG, acl?: unknown) => {
    let req = api().post(`/v1/storage/buckets/${bucket}/files`).set(auth).field('key', key);
    if (acl !== undefined) req = req.field('acl', JSON.stringify(acl));
    return req.attach('file', data, { filename: 'photo.png', contentType: 'image/png' });
  };
  const newBucket = async (rules: unknown, extra: Record<string, unknown> = {}) => {
    const res = await api()
      .post('/v1/storage/buckets')
      .set(service)
      .send({ name: `photos-${randomBytes(4).toString('hex')}`, rules, ...extra })
      .expect(201);
    expect(res.body.rules).toEqual(rules);
    return res.body.name as string;
  };

  beforeAll(async () => {
    h = await startStorageApi('local');
    alice = await createUser(h.app);
    bob = await createUser(h.app);
    moderator = await createUser(h.app, { roles: ['moderator'] });
  });
  afterAll(async () => {
    await h.close();
  });

  it("uploads only under the caller's own first segment, within size and type", async () => {
    const bucket = await newBucket({
      create: { segment0: '@auth.id', size: { $lte: 1024 * 1024 }, contentType: { $startsWith: 'image/' } },
      delete: ['owner', { '@auth.roles': { $contains: 'moderator' } }],
    });
    await upload(bucket, `${alice.id}/pancakes/cover.png`, bearer(alice)).expect(201);
    // Bob under Alice's folder: refused, and nothing is stored.
    await upload(bucket, `${alice.id}/pancakes/evil.png`, bearer(bob)).expect(403);
    await upload(bucket, `other/evil.png`, bearer(bob)).expect(403);
    await upload(bucket, `${bob.id}/notes.txt`, bearer(bob), Buffer.from('plain text')).expect(403);
    await upload(bucket, `${bob.id}/ok.png`, bearer(bob)).expect(201);
    // The service role passes every rule.
    await upload(bucket, 'anywhere/x.png', service).expect(201);
    const list = await api().get(`/v1/storage/buckets/${bucket}/files`).set(service).expect(200);
    expect((list.body.items as { key: string }[]).map((f) => f.key).sort()).toEqual([`${alice.id}/pancakes/cover.png`, `${bob.id}/ok.png`, 'anywhere/x.png'].sort());
    // Presigned uploads are checked the same way, before a URL is handed out.
    await api().post(`/v1/storage/buckets/${bucket}/upload-url`).set(bearer(bob)).send({ key: `${alice.id}/x.png`, size: 10, contentType: 'image/png' }).expect(403);
    await api().post(`/v1/storage/buckets/${bucket}/upload-url`).set(bearer(bob)).send({ key: `${bob.id}/big.png`, size: 2 * 1024 * 1024, contentType: 'image/png' }).expect(403);
    await api().post(`/v1/storage/buckets/${bucket}/upload-url`).set(bearer(bob)).send({ key: `${bob.id}/y.png`, size: 10, contentType: 'image/png' }).expect(201);
  });

  it('delete rules narrow who may delete; moderators may delete any file the rule names them for', async () => {
    const bucket = await newBucket({ delete: { '@auth.roles': { $contains: 'moderator' } } });
    const own = (await upload(bucket, 'a.png', bearer(alice), PNG, { write: [`role:moderator`] }).expect(201)).body.id as string;
    // The owner may write the file, but the bucket's delete rule wants a moderator.
    await api().delete(`/v1/storage/files/${own}`).set(bearer(alice)).expect(403);
    await api().delete(`/v1/storage/files/${own}`).set(bearer(moderator)).expect(204);
  });

  it('PATCH changes the acl (a private photo becomes public when its draft is published) and the key', async () => {
    const bucket = await newBucket({ update: { segment0: '@auth.id', '@data.segment0': '@auth.id' } });
    const photo = (await upload(bucket, `${alice.id}/draft.png`, bearer(alice)).expect(201)).body.id as string;
    await api().get(`/v1/storage/files/${photo}`).set(bearer(bob)).expect(404);
    const patched = await api().patch(`/v1/storage/files/${photo}`).set(bearer(alice)).send({ acl: { read: ['*'] } }).expect(200);
    expect(patched.body.acl).toEqual({ read: ['*'], write: [] });
    await api().get(`/v1/storage/files/${photo}`).set(bearer(bob)).expect(200);
    await api().get(`/v1/storage/files/${photo}/content`).expect(200);
    // Someone who may read but not write it cannot change it; one who may not read it gets 404.
    await api().patch(`/v1/storage/files/${photo}`).set(bearer(bob)).send({ acl: { read: [] } }).expect(403);
    // Renaming within the owner's folder is fine; moving it out is refused by the update rule.
    const renamed = await api().patch(`/v1/storage/files/${photo}`).set(bearer(alice)).send({ key: `${alice.id}/published.png` }).expect(200);
    expect(renamed.body.key).toBe(`${alice.id}/published.png`);
    await api().patch(`/v1/storage/files/${photo}`).set(bearer(alice)).send({ key: `${bob.id}/stolen.png` }).expect(403);
    // A taken key is 409; the bytes stay readable under the new key.
    await upload(bucket, `${alice.id}/other.png`, bearer(alice)).expect(201);
    expect((await api().patch(`/v1/storage/files/${photo}`).set(bearer(alice)).send({ key: `${alice.id}/other.png` }).expect(409)).body.code).toBe('FILE_EXISTS');
    await api().get(`/v1/storage/files/${photo}/content`).expect(200);
  });

  it('a read rule grants reading by path: get, content and exact list pages', async () => {
    const bucket = await newBucket({ read: [{ segment0: 'shared' }, { segment0: 'private', segment1: '@auth.id' }] });
    const put = (key: string, auth: Record<string, string> = service) => upload(bucket, key, auth).expect(201).then((r) => r.body.id as string);
    const shared = await put('shared/a.png');
    const alicePrivate = await put(`private/${alice.id}/b.png`);
    await put(`private/${bob.id}/c.png`);
    await put('zzz/hidden.png');
    await put('mine/x.png', bearer(alice));
    const keys = async (auth: Record<string, string>, limit = 100) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await api()
          .get(`/v1/storage/buckets/${bucket}/files`)
          .query({ limit, ...(cursor ? { cursor } : {}) })
          .set(auth)
          .expect(200);
        seen.push(...(page.body.items as { key: string }[]).map((f) => f.key));
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
      return seen;
    };
    const forAlice = ['mine/x.png', `private/${alice.id}/b.png`, 'shared/a.png'];
    expect(await keys(bearer(alice))).toEqual(forAlice);
    expect(await keys(bearer(alice), 1)).toEqual(forAlice);
    expect(await keys(bearer(bob))).toEqual([`private/${bob.id}/c.png`, 'shared/a.png']);
    expect(await keys({})).toEqual(['shared/a.png']);
    await api().get(`/v1/storage/files/${shared}/content`).expect(200);
    await api().get(`/v1/storage/files/${alicePrivate}`).set(bearer(alice)).expect(200);
    await api().get(`/v1/storage/files/${alicePrivate}`).set(bearer(bob)).expect(404);
    await api().get(`/v1/storage/files/${alicePrivate}/content`).expect(404);
    // Reading is not writing: the read rule does not let Bob delete a shared file.
    await api().delete(`/v1/storage/files/${shared}`).set(bearer(bob)).expect(403);
  });

  it('validates bodies and rules', async () => {
    const bucket = await newBucket({});
    const id = (await upload(bucket, 'x.png', bearer(alice)).expect(201)).body.id as string;
    for (const body of [{}, { acl: { read: ['everyone'] } }, { key: '../up' }, { size: 3 }]) {
      expect((await api().patch(`/v1/storage/files/${id}`).set(bearer(alice)).send(body).expect(400)).body.code).toBe('VALIDATION_FAILED');
    }
    await api().patch('/v1/storage/files/00000000-0000-4000-8000-000000000000').set(bearer(alice)).send({ acl: { read: [] } }).expect(404);
    for (const [rules, path] of [
      [{ create: { nope: 1 } }, 'rules.create.nope'],
      [{ create: { size: 'big' } }, 'rules.create.size'],
      [{ list: 'public' }, 'rules'],
      [{ read: { '@data.key': 'x' } }, 'rules.read.@data.key'],
      [{ delete: { '@data.key': 'x' } }, 'rules.delete.@data.key'],
    ] as const) {
      const res = await api().post('/v1/storage/buckets').set(service).send({ name: `bad-${randomBytes(4).toString('hex')}`, rules }).expect(400);
      expect((res.body.details as { path: string }[]).map((d) => d.path)).toContain(path);
    }
    // Rules can be replaced and removed by an admin.
    const changed = await api().patch(`/v1/storage/buckets/${bucket}`).set(service).send({ rules: { create: 'role:uploader' } }).expect(200);
    expect(changed.body.rules).toEqual({ create: 'role:uploader' });
    await upload(bucket, 'y.png', bearer(alice)).expect(403);
    await api().patch(`/v1/storage/buckets/${bucket}`).set(service).send({ rules: null }).expect(200);
    await upload(bucket, 'y.png', bearer(alice)).expect(201);
    await api().patch(`/v1/storage/buckets/${bucket}`).set(bearer(alice)).send({ rules: null }).expect(403);
  });
});
