import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../apps/api/src/auth/caller.js';
import type { Rule } from '../../apps/api/src/collections/definition.js';
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
    return { kind: 'user', userId: u.id, email: u.email, roles: u.roles, sessionId: 'n/a' };
  }

  beforeAll(async () => {
    app = await startApi();
    users.owner = await createUser(app);
    users.other = await createUser(app);
    users.member = await createUser(app, { roles: ['editor'] });
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
        fields: [{ name: 'title', type: 'string' }],
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
          .send({ title: 'secret', ...(acl ? { acl } : {}) })
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
      const doc = { ownerId: stored.body.ownerId as string, acl: stored.body.acl };
      for (const actor of ACTORS) {
        expect({ actor, read: canRead(callerOf(actor), scenario.rules.read, doc), list: canRead(callerOf(actor), scenario.rules.list, doc) }).toEqual({
          actor,
          read: scenario.expected[actor].get === 200,
          list: scenario.expected[actor].list === 'listed',
        });
      }
    });
  });
});
