import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldDef } from '../../apps/api/src/collections/definition.js';
import { evaluateFilter } from '../../apps/api/src/collections/documents/filter-eval.js';
import { compileFilter, type VarScope } from '../../apps/api/src/collections/documents/filter.js';
import { Params } from '../../apps/api/src/collections/sql.js';
import { startApi } from '../support/app.js';
import { SERVICE_KEY } from '../support/config.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, directPool, service, uniqueName } from './support.js';

/** Rules as expressions (docs/data.md "Rules"): reads in SQL, writes over the stored and the incoming document, validation when saved. */
describe('rule expressions', () => {
  let app: NestFastifyApplication;
  let alice: TestUser;
  let bob: TestUser;
  let moderator: TestUser;
  const s = () => app.getHttpServer();

  beforeAll(async () => {
    app = await startApi();
    alice = await createUser(app);
    bob = await createUser(app);
    moderator = await createUser(app, { roles: ['moderator'] });
  });
  afterAll(async () => {
    await app.close();
  });

  describe('public or mine (the drafts of the issue)', () => {
    let recipes: string;
    beforeAll(async () => {
      const readable = { $or: [{ public: true }, { ownerId: '@auth.id' }] };
      recipes = await defineCollection(app, {
        name: uniqueName('recipes'),
        fields: [
          { name: 'title', type: 'string', required: true },
          { name: 'public', type: 'boolean', required: true },
        ],
        rules: { list: readable, read: readable, create: 'authenticated', update: 'owner', delete: ['owner', 'role:moderator'] },
      });
      const add = (user: TestUser, title: string, isPublic: boolean) =>
        request(s()).post(`/v1/collections/${recipes}/documents`).set(bearer(user)).send({ title, public: isPublic }).expect(201);
      for (let i = 0; i < 5; i++) await add(alice, `alice public ${i}`, true);
      for (let i = 0; i < 3; i++) await add(alice, `alice draft ${i}`, false);
      for (let i = 0; i < 2; i++) await add(bob, `bob draft ${i}`, false);
    });

    it('counts and lists only what each caller may read, page by page', async () => {
      const count = async (headers: Record<string, string>, filter?: unknown) =>
        (
          await request(s())
            .get(`/v1/collections/${recipes}/documents`)
            .query({ count: 'true', limit: 1, ...(filter ? { filter: JSON.stringify(filter) } : {}) })
            .set(headers)
            .expect(200)
        ).body.count as number;
      expect(await count({})).toBe(5);
      expect(await count(bearer(alice))).toBe(8);
      expect(await count(bearer(bob))).toBe(7);
      expect(await count(service)).toBe(10);
      // A filter for drafts does not reveal others' drafts through the count.
      expect(await count({}, { public: false })).toBe(0);
      expect(await count(bearer(bob), { public: false })).toBe(2);

      const titles: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await request(s())
          .get(`/v1/collections/${recipes}/documents`)
          .query({ limit: 2, sort: 'title', ...(cursor ? { cursor } : {}) })
          .expect(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        titles.push(...page.body.items.map((d: { title: string }) => d.title));
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
      expect(titles).toEqual([0, 1, 2, 3, 4].map((i) => `alice public ${i}`));
    });

    it('answers a draft of someone else as missing; a list rule lets moderators delete it', async () => {
      const drafts = await request(s())
        .get(`/v1/collections/${recipes}/documents`)
        .query({ filter: JSON.stringify({ public: false }) })
        .set(bearer(bob))
        .expect(200);
      const id = drafts.body.items[0].id as string;
      const asAlice = await request(s()).get(`/v1/collections/${recipes}/documents/${id}`).set(bearer(alice));
      expect(asAlice.status).toBe(404);
      // The moderator cannot read the draft either (read rule), so it answers as missing to them too.
      await request(s()).delete(`/v1/collections/${recipes}/documents/${id}`).set(bearer(moderator)).expect(404);
      const published = await request(s()).get(`/v1/collections/${recipes}/documents`).query({ limit: 1 }).expect(200);
      await request(s()).delete(`/v1/collections/${recipes}/documents/${published.body.items[0].id}`).set(bearer(bob)).expect(403);
      await request(s()).delete(`/v1/collections/${recipes}/documents/${published.body.items[0].id}`).set(bearer(moderator)).expect(204);
    });
  });

  describe('write rules over the stored and the incoming document', () => {
    let posts: string;
    beforeAll(async () => {
      posts = await defineCollection(app, {
        name: uniqueName('posts'),
        fields: [
          { name: 'title', type: 'string' },
          { name: 'status', type: 'string', enum: ['draft', 'published', 'archived'] },
          { name: 'author', type: 'reference', collection: 'users' },
        ],
        rules: {
          list: 'public',
          read: 'public',
          // New posts are drafts by their author.
          create: { status: 'draft', author: '@auth.id' },
          // The author may edit; the author field may not change; status only goes draft → published.
          update: {
            author: '@auth.id',
            '@data.author': '@auth.id',
            $or: [{ status: '@data.status' }, { status: 'draft', '@data.status': 'published' }],
          },
          delete: { author: '@auth.id', status: 'draft', '@request.method': 'DELETE' },
        },
      });
    });

    const create = (user: TestUser, body: Record<string, unknown>) => request(s()).post(`/v1/collections/${posts}/documents`).set(bearer(user)).send(body);

    it('create: only drafts, only as their own author', async () => {
      await create(alice, { title: 'x', status: 'published', author: alice.id }).expect(403);
      await create(alice, { title: 'x', status: 'draft', author: bob.id }).expect(403);
      await create(alice, { title: 'x', status: 'draft' }).expect(403);
      await request(s()).post(`/v1/collections/${posts}/documents`).send({ title: 'x', status: 'draft' }).expect(401);
      const ok = await create(alice, { title: 'x', status: 'draft', author: alice.id }).expect(201);
      expect(ok.body).toMatchObject({ status: 'draft', author: alice.id, ownerId: alice.id });
    });

    it('update: the author field stays, status goes draft → published only', async () => {
      const id = (await create(alice, { title: 'x', status: 'draft', author: alice.id }).expect(201)).body.id as string;
      const patch = (user: TestUser, body: Record<string, unknown>) => request(s()).patch(`/v1/collections/${posts}/documents/${id}`).set(bearer(user)).send(body);
      await patch(alice, { title: 'renamed' }).expect(200);
      await patch(bob, { title: 'hijacked' }).expect(403);
      await patch(alice, { author: bob.id }).expect(403);
      await patch(alice, { status: 'archived' }).expect(403);
      await patch(alice, { status: 'published' }).expect(200);
      await patch(alice, { status: 'draft' }).expect(403);
      await patch(alice, { title: 'after publishing' }).expect(200);
      // PUT replaces the document: leaving the author out changes it, which the rule refuses.
      await request(s()).put(`/v1/collections/${posts}/documents/${id}`).set(bearer(alice)).send({ title: 'replaced', status: 'published' }).expect(403);
      const stored = await request(s()).get(`/v1/collections/${posts}/documents/${id}`).expect(200);
      expect(stored.body).toMatchObject({ title: 'after publishing', status: 'published', author: alice.id, version: 4 });
      // Deleting: only drafts.
      await request(s()).delete(`/v1/collections/${posts}/documents/${id}`).set(bearer(alice)).expect(403);
      const draft = (await create(alice, { title: 'y', status: 'draft', author: alice.id }).expect(201)).body.id as string;
      await request(s()).delete(`/v1/collections/${posts}/documents/${draft}`).set(bearer(alice)).expect(204);
    });

    it('batch writes follow the same rules', async () => {
      const res = await request(s())
        .post('/v1/batch')
        .set(bearer(bob))
        .send({
          operations: [
            { op: 'create', collection: posts, data: { title: 'b', status: 'published', author: bob.id } },
            { op: 'create', collection: posts, data: { title: 'b', status: 'draft', author: bob.id } },
          ],
        })
        .expect(200);
      expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([403, 201]);
    });
  });

  describe('team membership through a reference', () => {
    let teams: string;
    let projects: string;
    let team: string;
    let otherTeam: string;
    beforeAll(async () => {
      teams = await defineCollection(app, {
        name: uniqueName('teams'),
        fields: [
          { name: 'name', type: 'string' },
          { name: 'members', type: 'array', items: 'string' },
        ],
        rules: { list: 'authenticated', read: 'authenticated', create: 'admin', update: 'admin', delete: 'admin' },
      });
      const member = { 'team.members': { $contains: '@auth.id' } };
      projects = await defineCollection(app, {
        name: uniqueName('projects'),
        fields: [
          { name: 'title', type: 'string' },
          { name: 'team', type: 'reference', collection: teams, required: true },
        ],
        // Members of the project's team read, create and update; moderators too; only the owner deletes.
        rules: { list: [member, 'role:moderator'], read: [member, 'role:moderator'], create: member, update: member, delete: 'owner' },
      });
      team = (await request(s()).post(`/v1/collections/${teams}/documents`).set(service).send({ name: 'a', members: [alice.id, bob.id] }).expect(201)).body.id;
      otherTeam = (await request(s()).post(`/v1/collections/${teams}/documents`).set(service).send({ name: 'b', members: [bob.id] }).expect(201)).body.id;
    });

    it('reads, counts, creates and updates as the referenced team says, in SQL', async () => {
      const create = (user: TestUser, teamId: string) => request(s()).post(`/v1/collections/${projects}/documents`).set(bearer(user)).send({ title: 'p', team: teamId });
      const inA = (await request(s()).post(`/v1/collections/${projects}/documents`).set(service).send({ title: 'in a', team }).expect(201)).body.id as string;
      const inB = (await request(s()).post(`/v1/collections/${projects}/documents`).set(service).send({ title: 'in b', team: otherTeam }).expect(201)).body.id as string;
      const count = async (user: TestUser): Promise<{ count: number; items: { id: string }[] }> =>
        (await request(s()).get(`/v1/collections/${projects}/documents`).query({ count: 'true', limit: 10 }).set(bearer(user)).expect(200)).body as {
          count: number;
          items: { id: string }[];
        };
      expect((await count(alice)).count).toBe(1);
      expect((await count(alice)).items.map((p) => p.id)).toEqual([inA]);
      expect((await count(bob)).count).toBe(2);
      expect((await count(moderator)).count).toBe(2);
      await request(s()).get(`/v1/collections/${projects}/documents/${inB}`).set(bearer(alice)).expect(404);
      await request(s()).get(`/v1/collections/${projects}/documents/${inA}`).set(bearer(alice)).expect(200);
      await request(s()).get(`/v1/collections/${projects}/documents`).query({ count: 'true', limit: 1 }).expect(200).expect((r) => expect(r.body.count).toBe(0));
      // Updates: members only; the moderator reads but may not update.
      await request(s()).patch(`/v1/collections/${projects}/documents/${inA}`).set(bearer(alice)).send({ title: 'renamed' }).expect(200);
      await request(s()).patch(`/v1/collections/${projects}/documents/${inB}`).set(bearer(moderator)).send({ title: 'x' }).expect(403);
      // Leaving the team takes the access away at once.
      await request(s()).patch(`/v1/collections/${teams}/documents/${team}`).set(service).send({ members: [bob.id] }).expect(200);
      await request(s()).get(`/v1/collections/${projects}/documents/${inA}`).set(bearer(alice)).expect(404);
      expect((await count(alice)).count).toBe(0);
      await request(s()).patch(`/v1/collections/${teams}/documents/${team}`).set(service).send({ members: [alice.id, bob.id] }).expect(200);
      // Creating into a team: members only.
      await create(alice, otherTeam).expect(403);
      const mine = await create(alice, team).expect(201);
      expect(mine.body).toMatchObject({ team, ownerId: alice.id });
      // If the teams collection drops the field the rule reads, the rule item fails closed (no 500).
      await request(s()).patch(`/v1/collections/${teams}`).set(service).send({ fields: [{ name: 'name', type: 'string' }] }).expect(200);
      await request(s()).get(`/v1/collections/${projects}/documents`).set(bearer(alice)).expect(200).expect((r) => expect(r.body.items).toEqual([]));
      await request(s()).get(`/v1/collections/${projects}/documents`).set(bearer(moderator)).expect(200).expect((r) => expect(r.body.items.length).toBe(3));
      await request(s()).patch(`/v1/collections/${projects}/documents/${inA}`).set(bearer(alice)).send({ title: 'x' }).expect(404);
      await create(alice, team).expect(403);
      await request(s())
        .patch(`/v1/collections/${teams}`)
        .set(service)
        .send({ fields: [{ name: 'name', type: 'string' }, { name: 'members', type: 'array', items: 'string' }] })
        .expect(200);
    });

    it('is validated against the referenced collection; client filters cannot follow references', async () => {
      const bad = await request(s())
        .post('/v1/collections')
        .set(service)
        .send({ name: uniqueName('badref'), fields: [{ name: 'team', type: 'reference', collection: teams }, { name: 'who', type: 'reference', collection: 'users' }], rules: { read: { 'team.nope': 1 }, list: { 'who.email': 'x' } } })
        .expect(400);
      const paths = (bad.body.details as { path: string }[]).map((d) => d.path);
      expect(paths).toContain('rules.read.team.nope');
      expect(paths).toContain('rules.list.who.email');
      const filter = await request(s())
        .get(`/v1/collections/${projects}/documents`)
        .query({ filter: JSON.stringify({ 'team.members': { $contains: alice.id } }) })
        .set(service)
        .expect(400);
      expect(filter.body.code).toBe('INVALID_FILTER');
    });
  });

  it('a rule can require a verified email address', async () => {
    const verified = await defineCollection(app, {
      name: uniqueName('verified'),
      fields: [{ name: 'text', type: 'string' }],
      rules: { list: 'public', read: 'public', create: { '@auth.emailVerified': true }, update: 'owner', delete: 'owner' },
    });
    const carol = await createUser(app);
    await request(s()).post(`/v1/collections/${verified}/documents`).set(bearer(carol)).send({ text: 'hi' }).expect(403);
    await request(s()).patch(`/v1/admin/users/${carol.id}`).set('x-api-key', SERVICE_KEY).send({ emailVerified: true }).expect(200);
    await request(s()).post(`/v1/collections/${verified}/documents`).set(bearer(carol)).send({ text: 'hi' }).expect(201);
  });

  describe('rule lists of shorthands', () => {
    it('["owner", "role:moderator"] on list and read: role members list, count and get everything (no 500), owners their own', async () => {
      const rule = ['owner', 'role:moderator'];
      const notes = await defineCollection(app, { name: uniqueName('notes'), fields: [{ name: 'text', type: 'string' }], rules: { list: rule, read: rule, create: 'authenticated', update: rule, delete: rule } });
      const mine = (await request(s()).post(`/v1/collections/${notes}/documents`).set(bearer(alice)).send({ text: 'a' }).expect(201)).body.id as string;
      await request(s()).post(`/v1/collections/${notes}/documents`).set(bearer(bob)).send({ text: 'b' }).expect(201);
      const count = async (user: TestUser) => (await request(s()).get(`/v1/collections/${notes}/documents`).query({ count: 'true' }).set(bearer(user)).expect(200)).body.count as number;
      expect(await count(moderator)).toBe(2);
      expect(await count(alice)).toBe(1);
      await request(s()).get(`/v1/collections/${notes}/documents/${mine}`).set(bearer(moderator)).expect(200);
      await request(s()).get(`/v1/collections/${notes}/documents/${mine}`).set(bearer(bob)).expect(404);
      await request(s()).patch(`/v1/collections/${notes}/documents/${mine}`).set(bearer(moderator)).send({ text: 'moderated' }).expect(200);
      await request(s()).delete(`/v1/collections/${notes}/documents/${mine}`).set(bearer(moderator)).expect(204);
    });
  });

  describe('validated when saved', () => {
    const define = (rules: Record<string, unknown>, fields: unknown[] = [{ name: 'title', type: 'string' }, { name: 'n', type: 'integer' }]) =>
      request(s()).post('/v1/collections').set(service).send({ name: uniqueName('bad'), fields, rules });

    it.each([
      [{ read: { nope: true } }, 'rules.read.nope', 'not a field'],
      [{ read: { $or: [{ title: 'x' }, { n: 'ten' }] } }, 'rules.read.$or.1.n', 'must be a number'],
      [{ read: { n: '@auth.id' } }, 'rules.read.n', 'must be a number'],
      [{ read: { title: '@auth.nope' } }, 'rules.read.title', 'not a known variable'],
      [{ read: { title: '@data.title' } }, 'rules.read.title', 'only available in create and update rules'],
      [{ update: { '@data.missing': 1 } }, 'rules.update.@data.missing', 'not a field'],
      [{ delete: ['owner', { title: { $regex: 'x' } }] }, 'rules.delete.1.title.$regex', 'not a known operator'],
      [{ list: { '@auth.emailVerified': 'yes' } }, 'rules.list.@auth.emailVerified', 'must be true or false'],
      [{ list: { '@auth.id': { $gt: 'x' } } }, 'rules.list.@auth.id.$gt', 'cannot compare'],
    ])('%j → 400 at %s', async (rules, path, message) => {
      const res = await define(rules).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      const detail = (res.body.details as { path: string; message: string }[]).find((d) => d.path === path);
      expect(detail?.message).toContain(message);
    });

    it('rejects unknown shorthands, empty and oversized lists', async () => {
      for (const rule of ['owners', 'role:', [], ['owner', 'role:bad name'], 42]) {
        const res = await define({ read: rule }).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect((res.body.details as { path: string }[]).some((d) => d.path.startsWith('rules.read'))).toBe(true);
      }
      await define({ read: Array.from({ length: 11 }, () => 'owner') }).expect(400);
    });

    it('accepts lists of shorthands and expressions, and stores them as given', async () => {
      const rules = { list: ['owner', 'role:moderator'], read: [{ title: { $startsWith: '@@at' } }, 'owner'], create: 'authenticated', update: 'owner', delete: ['owner', 'role:moderator'] };
      const res = await define(rules).expect(201);
      expect(res.body.rules).toEqual(rules);
    });

    it('checks rules again when fields change', async () => {
      const name = await defineCollection(app, {
        name: uniqueName('evolve'),
        fields: [{ name: 'flag', type: 'boolean' }],
        rules: { list: { flag: true }, read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
      });
      const res = await request(s()).patch(`/v1/collections/${name}`).set(service).send({ fields: [] }).expect(400);
      expect(res.body.details).toContainEqual({ path: 'rules.list.flag', message: '"flag" is not a field of this collection' });
      await request(s()).patch(`/v1/collections/${name}`).set(service).send({ rules: { read: { flag: 'x' } } }).expect(400);
      await request(s()).patch(`/v1/collections/${name}`).set(service).send({ rules: { read: { flag: false } } }).expect(200);
    });
  });

  describe('the in-code evaluation answers as the SQL does', () => {
    let db: pg.Pool;
    let name: string;
    const fields: FieldDef[] = [
      { name: 's', type: 'string' },
      { name: 'n', type: 'number' },
      { name: 'b', type: 'boolean' },
      { name: 'd', type: 'date' },
      { name: 'tags', type: 'array', items: 'string' },
      { name: 'meta', type: 'json' },
      { name: 'who', type: 'reference', collection: 'users' },
    ];
    const docs: Record<string, unknown>[] = [
      {},
      { s: 'Apple', n: 1, b: true, d: '2026-01-01', tags: ['a', 'b'], meta: { k: 'v', x: 2, nested: { deep: true } } },
      { s: 'apple pie', n: 2.5, b: false, d: '2026-06-30T12:00:00Z', tags: [], meta: { k: null } },
      { s: '', n: -3, tags: ['b'], meta: { x: 'text' } },
      { s: 'Zebra 🦓', n: 0, b: true, meta: {} },
      { s: 'é', meta: { k: 'v' } },
      { s: 'Crème Brûlée', meta: { k: 'ÉCOLE' } },
      { s: 'STRASSE Straße Ångström', n: 7 },
    ];
    const filters: Record<string, unknown>[] = [
      { s: 'Apple' },
      { s: { $ne: 'Apple' } },
      { s: null },
      { s: { $ne: null } },
      { s: { $gt: 'B' } },
      { s: { $lte: 'apple pie' } },
      { s: { $in: ['Apple', ''] } },
      { s: { $nin: ['Apple'] } },
      { s: { $nin: [] } },
      { s: { $in: [] } },
      { s: { $contains: 'pp' } },
      { s: { $startsWith: 'Z' } },
      { s: { $exists: true } },
      { s: { $ieq: 'apple' } },
      { s: { $ieq: 'CREME BRULEE' } },
      { s: { $icontains: 'brûl' } },
      { s: { $icontains: 'BRUL' } },
      { s: { $icontains: 'strasse' } },
      { s: { $icontains: 'angstrom' } },
      { s: { $istartsWith: 'AP' } },
      { s: { $istartsWith: 'É' } },
      { 'meta.k': { $ieq: 'ecole' } },
      { 'meta.k': { $icontains: 'col' } },
      { s: { $exists: false } },
      { n: { $gte: 1 } },
      { n: { $lt: 0 } },
      { n: 2.5 },
      { n: { $in: [0, 1] } },
      { b: true },
      { b: { $ne: true } },
      { d: { $gte: '2026-03-01' } },
      { d: '2026-01-01T00:00:00.000Z' },
      { tags: { $contains: 'b' } },
      { tags: [] },
      { tags: null },
      { meta: { $contains: { k: 'v' } } },
      { meta: { k: 'v' } },
      { 'meta.k': null },
      { 'meta.k': { $ne: null } },
      { 'meta.x': { $gt: 1 } },
      { 'meta.x': { $gt: 'a' } },
      { 'meta.x': { $in: [2, 'text'] } },
      { 'meta.x': { $nin: [2] } },
      { 'meta.nested.deep': true },
      { 'meta.k': { $contains: 'v' } },
      { 'meta.k': { $exists: true } },
      { $or: [{ n: { $gt: 1 } }, { s: 'Apple' }] },
      { $and: [{ n: { $gt: -10 } }, { b: true }] },
      { $not: { n: { $gt: 1 } } },
      { $not: { $or: [{ s: null }, { n: 1 }] } },
      { $or: [{ n: { $gt: 100 } }, { s: { $contains: 'x' } }] },
      { createdAt: { $gte: '2000-01-01' } },
      { ownerId: null },
      { id: { $ne: null } },
      // Variables (a signed-in caller without roles; another with).
      { who: '@auth.id' },
      { ownerId: '@auth.id' },
      { '@auth.roles': { $contains: 'editor' } },
      { '@auth.emailVerified': true, s: { $exists: true } },
      { $or: [{ b: true }, { '@auth.kind': 'anonymous' }] },
      { s: { $in: ['@auth.email', 'Apple'] } },
      { '@request.method': 'GET', n: { $lte: 1 } },
    ];
    let user: TestUser;

    beforeAll(async () => {
      db = directPool();
      user = await createUser(app);
      name = await defineCollection(app, { name: uniqueName('evalx'), fields, rules: { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' } });
      for (const [i, doc] of docs.entries()) {
        const body = i === 1 ? { ...doc, who: user.id } : doc;
        await request(s()).post(`/v1/collections/${name}/documents`).set(i % 2 ? bearer(user) : service).send(body).expect(201);
      }
    });
    afterAll(async () => {
      await db.end();
    });

    it.each([
      ['a user', { id: 'caller', email: 'apple pie', roles: [] as string[], emailVerified: false, kind: 'user' as const }],
      ['an editor', { id: 'caller', email: 'x@y', roles: ['editor'], emailVerified: true, kind: 'user' as const }],
      ['anonymous', { id: null, email: null, roles: [] as string[], emailVerified: false, kind: 'anonymous' as const }],
    ])('for %s, on every filter and document', async (_label, auth) => {
      const scope: VarScope = { values: { auth: { ...auth, id: auth.id === 'caller' ? user.id : null }, request: { method: 'GET' } }, data: false };
      const { rows } = await db.query<{ id: string; data: Record<string, unknown>; owner_id: string | null; created_at: Date; updated_at: Date }>(
        `SELECT id, data, owner_id, created_at, updated_at FROM data."${name}"`,
      );
      expect(rows).toHaveLength(docs.length);
      const mismatches: unknown[] = [];
      for (const filter of filters) {
        const params = new Params();
        const sql = compileFilter({ fields }, filter, params, 'd', scope);
        const { rows: answers } = await db.query<{ id: string; r: boolean | null }>(`SELECT d.id, (${sql}) AS r FROM data."${name}" d`, params.values);
        const inSql = new Map(answers.map((a) => [a.id, a.r]));
        for (const row of rows) {
          const inCode = evaluateFilter({ fields }, filter, { id: row.id, ownerId: row.owner_id, createdAt: row.created_at, updatedAt: row.updated_at, data: row.data }, scope);
          if (inCode !== inSql.get(row.id)) mismatches.push({ filter, data: row.data, sql: inSql.get(row.id), code: inCode });
        }
      }
      expect(mismatches).toEqual([]);
    });
  });
});
