import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../apps/api/src/auth/caller.js';
import type { Rule } from '../../apps/api/src/collections/definition.js';
import { accessOfDoc } from '../../apps/api/src/collections/documents/doc-view.js';
import { canRead } from '../../apps/api/src/collections/permissions.js';
import { startApi } from '../support/app.js';
import { SERVICE_KEY } from '../support/config.js';
import { createUser, type TestUser } from '../support/users.js';
import { defineCollection, uniqueName } from './support.js';

/**
 * The permission matrix: for each collection setup, each caller, and each way of reading or
 * writing a document, the exact answer. Reads the caller may not make look like a missing
 * document (404 on get, absent from list, not counted, null when expanded).
 */

type Actor = 'owner' | 'other' | 'anonymous' | 'member' | 'admin' | 'service';
const ACTORS: Actor[] = ['owner', 'other', 'anonymous', 'member', 'admin', 'service'];

interface Outcome {
  get: number;
  list: 'listed' | 'absent';
  count: number;
  update: number;
  delete: number;
  expand: 'expanded' | null;
}

const allowAll: Outcome = { get: 200, list: 'listed', count: 1, update: 200, delete: 204, expand: 'expanded' };
const hidden: Outcome = { get: 404, list: 'absent', count: 0, update: 404, delete: 404, expand: null };

interface Scenario {
  name: string;
  rules: Record<'list' | 'read' | 'create' | 'update' | 'delete', Rule>;
  /** Extra fields of the collection and their values in the document (expression rules read them). */
  fields?: { name: string; type: 'boolean' | 'string' }[];
  data?: Record<string, unknown>;
  /** The acl the owner puts on the document (`other` stands for the other user's id). */
  acl: (ids: { other: string }) => { read?: string[]; write?: string[] } | null;
  expected: Record<Actor, Outcome>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'private: every rule owner, no acl',
    rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
    acl: () => null,
    expected: { owner: allowAll, other: hidden, anonymous: hidden, member: hidden, admin: allowAll, service: allowAll },
  },
  {
    name: 'shared: signed-in readers, editors update, owner deletes; acl narrows to editors',
    rules: { list: 'authenticated', read: 'authenticated', create: 'authenticated', update: 'role:editor', delete: 'owner' },
    acl: () => ({ read: ['role:editor'], write: ['role:editor'] }),
    expected: {
      owner: { ...allowAll, update: 403 },
      other: hidden,
      anonymous: hidden,
      member: { ...allowAll, delete: 403 },
      admin: allowAll,
      service: allowAll,
    },
  },
  {
    name: 'board: public rules, admin deletes; acl lets everyone read and one other user write',
    rules: { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'admin' },
    acl: ({ other }) => ({ read: ['*'], write: [`user:${other}`] }),
    expected: {
      owner: { ...allowAll, delete: 403 },
      other: { ...allowAll, delete: 403 },
      anonymous: { ...allowAll, update: 401, delete: 401 },
      member: { ...allowAll, update: 403, delete: 403 },
      admin: allowAll,
      service: allowAll,
    },
  },
  {
    name: 'public rules, acl narrows reading to one other user',
    rules: { list: 'public', read: 'public', create: 'authenticated', update: 'authenticated', delete: 'authenticated' },
    acl: ({ other }) => ({ read: [`user:${other}`] }),
    expected: { owner: allowAll, other: allowAll, anonymous: hidden, member: hidden, admin: allowAll, service: allowAll },
  },
  {
    name: 'team: editors read and update, only admins delete',
    rules: { list: 'role:editor', read: 'role:editor', create: 'authenticated', update: 'role:editor', delete: 'admin' },
    acl: () => null,
    expected: {
      owner: hidden,
      other: hidden,
      anonymous: hidden,
      member: { ...allowAll, delete: 403 },
      admin: allowAll,
      service: allowAll,
    },
  },
  // Expression rules (docs/data.md). The member is an editor with a verified email address.
  {
    name: 'expression: a draft is seen by its owner and editors only, never counted for others',
    rules: {
      list: [{ published: true }, { ownerId: '@auth.id' }, 'role:editor'],
      read: [{ published: true }, { ownerId: '@auth.id' }, 'role:editor'],
      create: 'authenticated',
      update: { ownerId: '@auth.id' },
      delete: ['owner', 'role:editor'],
    },
    fields: [{ name: 'published', type: 'boolean' }],
    data: { published: false },
    acl: () => null,
    expected: {
      owner: allowAll,
      other: hidden,
      anonymous: hidden,
      member: { ...allowAll, update: 403 },
      admin: allowAll,
      service: allowAll,
    },
  },
  {
    name: 'expression: a published document is public, owner updates, owner or editors delete',
    rules: {
      list: { $or: [{ published: true }, { ownerId: '@auth.id' }] },
      read: { $or: [{ published: true }, { ownerId: '@auth.id' }] },
      create: 'authenticated',
      update: { ownerId: '@auth.id' },
      delete: ['owner', { '@auth.roles': { $contains: 'editor' } }],
    },
    fields: [{ name: 'published', type: 'boolean' }],
    data: { published: true },
    acl: () => null,
    expected: {
      owner: allowAll,
      other: { ...allowAll, update: 403, delete: 403 },
      anonymous: { ...allowAll, update: 401, delete: 401 },
      member: { ...allowAll, update: 403 },
      admin: allowAll,
      service: allowAll,
    },
  },
  {
    name: 'expression: verified emails read; verified owners update; the acl still narrows',
    rules: {
      list: { '@auth.emailVerified': true },
      read: { '@auth.emailVerified': true },
      create: 'authenticated',
      update: { ownerId: '@auth.id', '@auth.emailVerified': true },
      delete: { '@auth.emailVerified': true, '@request.method': 'DELETE' },
    },
    acl: () => ({ read: ['role:editor'] }),
    expected: {
      owner: hidden,
      other: hidden,
      anonymous: hidden,
      member: { ...allowAll, update: 403 },
      admin: allowAll,
      service: allowAll,
    },
  },
  {
    name: 'expression: public documents by a field, acl narrows reading to one other user',
    rules: {
      list: { published: true },
      read: { published: true },
      create: 'authenticated',
      update: ['owner', { title: { $startsWith: 'sec' }, '@auth.kind': 'user' }],
      delete: 'owner',
    },
    fields: [{ name: 'published', type: 'boolean' }],
    data: { published: true },
    acl: ({ other }) => ({ read: [`user:${other}`] }),
    expected: {
      owner: allowAll,
      other: { ...allowAll, delete: 403 },
      anonymous: hidden,
      member: hidden,
      admin: allowAll,
      service: allowAll,
    },
  },
];

describe('permissions: the ACL matrix', () => {
  let app: NestFastifyApplication;
  const users = {} as Record<'owner' | 'other' | 'member' | 'admin', TestUser>;

  function headers(actor: Actor): Record<string, string> {
    if (actor === 'anonymous') return {};
    if (actor === 'service') return { 'x-api-key': SERVICE_KEY };
    return { Authorization: `Bearer ${users[actor].accessToken}` };
  }

  function callerOf(actor: Actor): Caller {
    if (actor === 'anonymous') return { kind: 'anonymous' };
    if (actor === 'service') return { kind: 'service', keyId: 'bootstrap' };
    const u = users[actor];
    return { kind: 'user', userId: u.id, email: u.email, roles: u.roles, sessionId: 'n/a', emailVerified: actor === 'member' };
  }

  beforeAll(async () => {
    app = await startApi();
    users.owner = await createUser(app);
    users.other = await createUser(app);
    users.member = await createUser(app, { roles: ['editor'] });
    await request(app.getHttpServer()).patch(`/v1/admin/users/${users.member.id}`).set('x-api-key', SERVICE_KEY).send({ emailVerified: true }).expect(200);
    users.admin = await createUser(app, { roles: ['admin'] });
  });
  afterAll(async () => {
    await app.close();
  });

  describe.each(SCENARIOS)('$name', (scenario) => {
    let collection: string;
    let refs: string;
    let readDoc: string;
    let refDoc: string;
    const writeDocs = {} as Record<Actor, { update: string; delete: string }>;

    beforeAll(async () => {
      collection = await defineCollection(app, {
        name: uniqueName('acl'),
        fields: [{ name: 'title', type: 'string' }, ...(scenario.fields ?? [])],
        rules: scenario.rules,
      });
      refs = await defineCollection(app, {
        name: uniqueName('aclref'),
        fields: [{ name: 'target', type: 'reference', collection }],
        rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
      });
      const acl = scenario.acl({ other: users.other.id });
      const s = app.getHttpServer();
      const create = async () => {
        const res = await request(s)
          .post(`/v1/collections/${collection}/documents`)
          .set(headers('owner'))
          .send({ title: 'secret', ...scenario.data, ...(acl ? { acl } : {}) })
          .expect(201);
        expect(res.body.ownerId).toBe(users.owner.id);
        return res.body.id as string;
      };
      readDoc = await create();
      for (const actor of ACTORS) writeDocs[actor] = { update: await create(), delete: await create() };
      refDoc = (await request(s).post(`/v1/collections/${refs}/documents`).set(headers('service')).send({ target: readDoc }).expect(201)).body.id;
    });

    it('answers every caller exactly as intended', async () => {
      const s = app.getHttpServer();
      const actual = {} as Record<Actor, Outcome>;
      for (const actor of ACTORS) {
        const h = headers(actor);
        const get = await request(s).get(`/v1/collections/${collection}/documents/${readDoc}`).set(h);
        const list = await request(s).get(`/v1/collections/${collection}/documents`).query({ limit: 100 }).set(h).expect(200);
        const count = await request(s)
          .get(`/v1/collections/${collection}/documents`)
          .query({ filter: JSON.stringify({ id: readDoc }), count: 'true', limit: 1 })
          .set(h)
          .expect(200);
        const update = await request(s).patch(`/v1/collections/${collection}/documents/${writeDocs[actor].update}`).set(h).send({ title: 'changed' });
        const del = await request(s).delete(`/v1/collections/${collection}/documents/${writeDocs[actor].delete}`).set(h);
        const expand = await request(s).get(`/v1/collections/${refs}/documents/${refDoc}`).query({ expand: 'target' }).set(h).expect(200);
        actual[actor] = {
          get: get.status,
          list: (list.body.items as { id: string }[]).some((d) => d.id === readDoc) ? 'listed' : 'absent',
          count: count.body.count,
          update: update.status,
          delete: del.status,
          expand: expand.body.target === null ? null : expand.body.target?.id === readDoc ? 'expanded' : expand.body.target,
        };

        // A forbidden read is indistinguishable from a missing document.
        if (get.status === 404) {
          const missing = await request(s).get(`/v1/collections/${collection}/documents/00000000-0000-4000-8000-000000000000`).set(h);
          expect({ status: missing.status, code: missing.body.code, message: missing.body.message }).toEqual({
            status: 404,
            code: get.body.code,
            message: get.body.message,
          });
        } else {
          expect(get.body).toMatchObject({ id: readDoc, title: 'secret', ownerId: users.owner.id });
        }
        if (update.status === 200) expect(update.body).toMatchObject({ title: 'changed', version: 2 });
      }
      expect(actual).toEqual(scenario.expected);

      // Denied writes changed nothing; allowed ones did exactly their work.
      for (const actor of ACTORS) {
        const h = headers('service');
        const updated = await request(s).get(`/v1/collections/${collection}/documents/${writeDocs[actor].update}`).set(h).expect(200);
        expect(updated.body.title).toBe(scenario.expected[actor].update === 200 ? 'changed' : 'secret');
        const deleted = await request(s).get(`/v1/collections/${collection}/documents/${writeDocs[actor].delete}`).set(h);
        expect(deleted.status).toBe(scenario.expected[actor].delete === 204 ? 404 : 200);
      }
    });

    it('the in-code check (used for change events) agrees with every read', async () => {
      const stored = await request(app.getHttpServer())
        .get(`/v1/collections/${collection}/documents/${readDoc}`)
        .set(headers('service'))
        .expect(200);
      const def = { fields: [{ name: 'title', type: 'string' as const }, ...(scenario.fields ?? [])] };
      const doc = accessOfDoc(def, stored.body);
      for (const actor of ACTORS) {
        expect({ actor, read: canRead(callerOf(actor), scenario.rules.read, doc, def), list: canRead(callerOf(actor), scenario.rules.list, doc, def) }).toEqual({
          actor,
          read: scenario.expected[actor].get === 200,
          list: scenario.expected[actor].list === 'listed',
        });
      }
    });
  });
});
