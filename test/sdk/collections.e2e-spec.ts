import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BaasClient, BaasError, type Filter } from '../../packages/sdk/src/index.js';
import { startApi } from '../support/app.js';
import { PASSWORD, sdkClients, uniqueEmail } from './support.js';

interface Author {
  name: string;
}
interface Post {
  title: string;
  views?: number;
  tags?: string[];
  status?: 'draft' | 'live';
  meta?: { lang: string };
  author?: string;
}

const suffix = Math.random().toString(36).slice(2, 8);
const POSTS = `sdk_posts_${suffix}`;
const AUTHORS = `sdk_authors_${suffix}`;

describe('SDK collections against the real api', () => {
  let app: NestFastifyApplication;
  let sdk: ReturnType<typeof sdkClients>;
  let alice: BaasClient;
  let bob: BaasClient;

  beforeAll(async () => {
    app = await startApi();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    sdk = sdkClients(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    const rules = { list: 'public', read: 'public', create: 'authenticated', update: 'owner', delete: 'owner' };
    await sdk.service.admin.collections.create({ name: AUTHORS, fields: [{ name: 'name', type: 'string', required: true }], rules });
    await sdk.service.admin.collections.create({
      name: POSTS,
      fields: [
        { name: 'title', type: 'string', required: true, max: 100 },
        { name: 'views', type: 'integer', min: 0, default: 0 },
        { name: 'tags', type: 'array', items: 'string' },
        { name: 'status', type: 'string', enum: ['draft', 'live'] },
        { name: 'meta', type: 'json' },
        { name: 'author', type: 'reference', collection: AUTHORS },
      ],
      indexes: [['views']],
      rules,
    });
    alice = sdk.app();
    bob = sdk.app();
    await alice.auth.signUp({ email: uniqueEmail('sdk-alice'), password: PASSWORD });
    await bob.auth.signUp({ email: uniqueEmail('sdk-bob'), password: PASSWORD });
  });
  afterAll(async () => {
    sdk?.expectContractKept();
    await app?.close();
  });

  it('the contract check itself refuses undeclared fields, statuses and error codes', () => {
    const before = sdk.contract.violations.length;
    sdk.contract.check('GET', '/v1/auth/me', 200, 'application/json', { id: 'x', email: 'a', emailVerified: true, roles: [], createdAt: 'x', extra: 1 });
    sdk.contract.check('GET', '/v1/auth/me', 201, 'application/json', {});
    sdk.contract.check('GET', '/v1/auth/me', 401, 'application/json', { statusCode: 401, code: 'NOT_A_CODE', message: 'm', requestId: 'r' });
    expect(sdk.contract.violations.splice(before)).toHaveLength(3);
  });

  it('creates, reads with projection and expansion, updates with If-Match, replaces and deletes', async () => {
    const authors = alice.collection<Author>(AUTHORS);
    const posts = alice.collection<Post>(POSTS);
    const author = await authors.create({ name: 'Alice' });
    const post = await posts.create({ title: 'Hello', tags: ['intro'], meta: { lang: 'en' }, author: author.id });
    expect(post).toMatchObject({ title: 'Hello', views: 0, version: 1, ownerId: expect.any(String), acl: null });

    const projected = await posts.get(post.id, { fields: ['title'] });
    expect(projected).toEqual({ id: post.id, version: 1, title: 'Hello' });
    const expanded = await bob.collection<Post>(POSTS).get(post.id, { expand: ['author'] });
    expect(expanded.author).toMatchObject({ id: author.id, name: 'Alice' });

    const updated = await posts.update(post.id, { views: 3 }, { ifMatch: 1 });
    expect(updated).toMatchObject({ views: 3, version: 2 });
    await expect(posts.update(post.id, { views: 4 }, { ifMatch: 1 })).rejects.toMatchObject({ statusCode: 412, code: 'PRECONDITION_FAILED' });
    const removedField = await posts.update(post.id, { tags: null });
    expect(removedField.tags).toBeUndefined();

    const replaced = await posts.replace(post.id, { title: 'Replaced', status: 'live' }, { ifMatch: removedField.version });
    expect(replaced).toMatchObject({ title: 'Replaced', status: 'live', views: 0 });
    expect(replaced.meta).toBeUndefined();

    // Bob may read (public) but not change Alice's post.
    const denied = await bob
      .collection<Post>(POSTS)
      .update(post.id, { title: 'Mine' })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(BaasError);
    expect([403, 404]).toContain((denied as BaasError).statusCode);

    await expect(posts.delete(post.id, { ifMatch: 1 })).rejects.toMatchObject({ statusCode: 412 });
    await posts.delete(post.id, { ifMatch: replaced.version });
    await expect(posts.get(post.id)).rejects.toMatchObject({ statusCode: 404, code: 'DOCUMENT_NOT_FOUND' });
  });

  it('lists with typed filters and sort, pages with cursors, iterates over every page, counts', async () => {
    const posts = alice.collection<Post>(POSTS);
    const tag = `t${suffix}`;
    for (let i = 0; i < 23; i++) {
      await posts.create({ title: `Post ${String(i).padStart(2, '0')}`, views: i, tags: [tag, i % 2 ? 'odd' : 'even'], status: i < 5 ? 'draft' : 'live' });
    }
    const mine: Filter<Post> = { tags: { $contains: tag } };
    const first = await posts.list({ filter: mine, sort: '-views', limit: 10, count: true });
    expect(first.items.map((p) => p.views)).toEqual([22, 21, 20, 19, 18, 17, 16, 15, 14, 13]);
    expect(first.count).toBe(23);
    const second = await posts.list({ filter: mine, sort: '-views', limit: 10, cursor: first.nextCursor });
    expect(second.items[0]!.views).toBe(12);

    const all: number[] = [];
    for await (const p of posts.iterate({ filter: mine, sort: ['views'], limit: 7, fields: ['views'] })) all.push(p.views!);
    expect(all).toEqual(Array.from({ length: 23 }, (_, i) => i));
    const pageSizes: number[] = [];
    for await (const page of posts.pages({ filter: mine, limit: 10 })) pageSizes.push(page.items.length);
    expect(pageSizes).toEqual([10, 10, 3]);

    const complex: Filter<Post> = {
      tags: { $contains: tag },
      $or: [{ views: { $gte: 20 } }, { status: 'draft', views: { $in: [1, 3] } }],
      $not: { title: { $startsWith: 'Post 21' } },
    };
    const found = await posts.list({ filter: complex, sort: 'views' });
    expect(found.items.map((p) => p.views)).toEqual([1, 3, 20, 22]);
    expect(await posts.count(complex)).toBe(4);
    // Anonymous callers can list a public collection too.
    expect(await sdk.app().collection<Post>(POSTS).count(mine)).toBe(23);
    await expect(posts.list({ filter: { nope: 1 } as Filter<Post> })).rejects.toMatchObject({ statusCode: 400, code: 'INVALID_FILTER' });
  });

  it('batches operations, and a transaction applies all or nothing', async () => {
    const posts = alice.collection<Post>(POSTS);
    const existing = await posts.create({ title: 'Batch target' });
    const result = await alice.batch([
      { op: 'create', collection: POSTS, data: { title: 'From batch' } },
      { op: 'get', collection: POSTS, id: existing.id },
      { op: 'update', collection: POSTS, id: existing.id, data: { views: 9 }, ifMatch: 1 },
      { op: 'update', collection: POSTS, id: existing.id, data: { views: 10 }, ifMatch: 1 },
    ]);
    expect(result.results.map((r) => r.status)).toEqual([201, 200, 200, 412]);

    const before = await posts.count({ title: 'Tx' });
    const failed = await alice
      .transaction([
        { op: 'create', collection: POSTS, data: { title: 'Tx' } },
        { op: 'create', collection: POSTS, data: { title: 'x'.repeat(200) } },
      ])
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(BaasError);
    expect((failed as BaasError).statusCode).toBe(400);
    expect(await posts.count({ title: 'Tx' })).toBe(before);
    const ok = await alice.transaction([
      { op: 'create', collection: POSTS, data: { title: 'Tx' } },
      { op: 'delete', collection: POSTS, id: existing.id, ifMatch: 2 },
    ]);
    expect(ok.results.map((r) => r.status)).toEqual([201, 204]);
    expect(await posts.count({ title: 'Tx' })).toBe(before + 1);
  });

  it('chooses ids, upserts with replace, and matches text ignoring case and accents', async () => {
    const posts = alice.collection<Post>(POSTS);
    const id = '4d3c2b1a-0f9e-4d8c-9b7a-6f5e4d3c2b1a';
    const created = await posts.create({ id, title: 'Crème brûlée' });
    expect(created.id).toBe(id);
    await expect(posts.create({ id, title: 'again' })).rejects.toMatchObject({ statusCode: 409, code: 'CONFLICT' });
    const upserted = await posts.replace('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', { title: 'CREME anglaise' });
    expect(upserted).toMatchObject({ id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', version: 1 });
    const found = await posts.list({ filter: { title: { $icontains: 'creme' } }, sort: ['title'] });
    expect(found.items.map((p) => p.title)).toEqual(['CREME anglaise', 'Crème brûlée']);
  });

  it('admin helpers manage the definitions', async () => {
    const name = `sdk_tmp_${suffix}`;
    await sdk.service.admin.collections.create({
      name,
      fields: [{ name: 'n', type: 'integer' }],
      rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
    });
    expect((await sdk.service.admin.collections.list()).map((c) => c.name)).toContain(name);
    const changed = await sdk.service.admin.collections.update(name, { fields: [{ name: 'n', type: 'integer' }, { name: 'label', type: 'string' }] });
    expect(changed.fields.map((f) => f.name)).toEqual(['n', 'label']);
    await sdk.service.collection(name).create({ n: 1 });
    await expect(sdk.service.admin.collections.delete(name)).rejects.toMatchObject({ code: 'COLLECTION_NOT_EMPTY' });
    await sdk.service.admin.collections.delete(name, { force: true });
    await expect(sdk.service.admin.collections.get(name)).rejects.toMatchObject({ statusCode: 404, code: 'COLLECTION_NOT_FOUND' });
    // Users cannot define collections.
    await expect(alice.admin.collections.list()).rejects.toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
  });
});
