import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCollection, service, uniqueName } from '../collections/support.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { connectAs, createDoc, type Frame, listeningApi, patchDoc, type Principal, RtClient } from './support.js';

/**
 * Realtime under rules as expressions (docs/realtime.md "Who receives what", docs/data.md
 * "Rules as expressions"): every subscriber receives exactly the events a GET would allow it,
 * with the GET body; subscriptions are refused up front only when the rule shows the caller
 * nothing; cascades announce their changes; scoped API keys subscribe within their areas.
 */

type Api = Awaited<ReturnType<typeof listeningApi>>;
let api: Api;
let owner: TestUser;
let other: TestUser;
let moderator: TestUser;
const http = () => request(api.app.getHttpServer());

const drafts = { $or: [{ published: true }, { ownerId: '@auth.id' }] };

beforeAll(async () => {
  api = await listeningApi();
  [owner, other, moderator] = await Promise.all([createUser(api.app), createUser(api.app), createUser(api.app, { roles: ['moderator'] })]);
});

afterAll(async () => {
  await api?.app.close();
});

type Who = 'owner' | 'other' | 'moderator' | 'anonymous' | 'service';
const principal = (who: Who): Principal => ({ owner, other, moderator, anonymous: undefined, service: 'service' as const })[who];
const headersOf = (who: Who): Record<string, string> => (who === 'service' ? service : who === 'anonymous' ? {} : bearer(principal(who) as TestUser));

/** What a GET of the document answers this subscriber: the body, or null for 404. */
async function getAs(who: Who, collection: string, id: string): Promise<Record<string, unknown> | null> {
  const res = await http().get(`/v1/collections/${collection}/documents/${id}`).set(headersOf(who));
  if (res.status === 404) return null;
  expect(res.status, `GET as ${who}`).toBe(200);
  return res.body as Record<string, unknown>;
}

interface Expected {
  event: string;
  documentId: string;
  document?: Record<string, unknown>;
}

/**
 * Subscribers of one collection and the events a GET says each should get: every write goes
 * through `write`, which reads the document as each subscriber before and after it; `check`
 * ends with a public marker document and compares what each received with what GET allowed.
 */
class Matrix {
  readonly expected = new Map<Who, Expected[]>();
  constructor(
    readonly collection: string,
    readonly clients: Map<Who, RtClient>,
  ) {
    for (const who of clients.keys()) this.expected.set(who, []);
  }

  static async open(collection: string, subscribers: Who[]): Promise<Matrix> {
    const clients = new Map<Who, RtClient>();
    for (const who of subscribers) {
      const client = await connectAs(api.ws, principal(who));
      await client.subscribe({ collection, sub: 'm' });
      clients.set(who, client);
    }
    return new Matrix(collection, clients);
  }

  /** One write (`op` is what the feed calls it) of document `id` (a create returns the new id). */
  async write(op: 'create' | 'update' | 'delete', run: () => Promise<string | void>, known?: string): Promise<string> {
    const before = new Map<Who, Record<string, unknown> | null>();
    if (known) for (const who of this.clients.keys()) before.set(who, await getAs(who, this.collection, known));
    const id = (await run()) ?? known!;
    for (const who of this.clients.keys()) {
      const after = op === 'delete' ? null : await getAs(who, this.collection, id);
      const list = this.expected.get(who)!;
      if (after) list.push({ event: op === 'create' ? 'create' : 'update', documentId: id, document: after });
      else if (before.get(who)) list.push({ event: op === 'delete' ? 'delete' : 'leave', documentId: id });
    }
    return id;
  }

  /**
   * Writes the markers (creates), then waits for each subscriber's last marker it may read
   * (every earlier event has been sent by then: one collection's events are in order) and
   * compares what it received with what GET allowed.
   */
  async check(markers: (() => Promise<string>)[], label: string): Promise<Map<Who, Frame[]>> {
    const ids = new Set<string>();
    for (const marker of markers) ids.add(await this.write('create', marker));
    const got = new Map<Who, Frame[]>();
    // Subscribers that may read no marker may read nothing at all: checked after the others.
    const order = [...this.clients].sort(([a], [b]) => Number(this.expected.get(a)!.length === 0) - Number(this.expected.get(b)!.length === 0));
    for (const [who, client] of order) {
      const expected = this.expected.get(who)!;
      const last = expected.findLast((e) => ids.has(e.documentId));
      if (last) await client.next((f) => f.type === 'event' && f.documentId === last.documentId);
      else expect(expected, `${label}: ${who} reads no marker, so nothing`).toEqual([]);
      const events = client.events('m').map((f) => ({ event: f.event, documentId: f.documentId, ...(f.document ? { document: f.document } : {}) }));
      expect(events, `${label}: ${who}`).toEqual(expected);
      got.set(who, client.events('m'));
    }
    return got;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}

const kinds = (frames: Frame[] | undefined) => (frames ?? []).map((f) => `${String(f.event)}:${String(f.documentId)}`);

describe('expression rules on realtime events', () => {
  it('public-or-owner drafts: each subscriber gets what GET shows it; publishing enters, unpublishing leaves', async () => {
    const name = await defineCollection(api.app, {
      name: uniqueName('rt_drafts'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'published', type: 'boolean' },
      ],
      rules: { list: drafts, read: drafts, create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const m = await Matrix.open(name, ['owner', 'other', 'moderator', 'anonymous', 'service']);
    const draft = await m.write('create', () => createDoc(api, name, bearer(owner), { title: 'unseen draft', published: false }));
    const pub = await m.write('create', () => createDoc(api, name, bearer(owner), { title: 'public', published: true }));
    await m.write('update', () => patchDoc(api, name, draft, bearer(owner), { title: 'draft 2' }), draft);
    await m.write('update', () => patchDoc(api, name, draft, bearer(owner), { published: true }), draft);
    await m.write('update', () => patchDoc(api, name, draft, bearer(owner), { published: false, title: 'secret again' }), draft);
    await m.write('update', () => patchDoc(api, name, pub, bearer(owner), { title: 'public 2' }), pub);
    await m.write('delete', async () => void (await http().delete(`/v1/collections/${name}/documents/${draft}`).set(bearer(owner)).expect(204)), draft);
    await m.write('delete', async () => void (await http().delete(`/v1/collections/${name}/documents/${pub}`).set(bearer(owner)).expect(204)), pub);
    const got = await m.check([() => createDoc(api, name, bearer(other), { title: 'marker', published: true })], 'drafts');

    // The same as written out by hand (so a wrong GET could not hide a wrong event).
    const last = got.get('owner')!.at(-1)!.documentId as string;
    const forOwner = [`create:${draft}`, `create:${pub}`, `update:${draft}`, `update:${draft}`, `update:${draft}`, `update:${pub}`, `delete:${draft}`, `delete:${pub}`, `create:${last}`];
    const forOthers = [`create:${pub}`, `update:${draft}`, `leave:${draft}`, `update:${pub}`, `delete:${pub}`, `create:${last}`];
    expect(kinds(got.get('owner'))).toEqual(forOwner);
    expect(kinds(got.get('service'))).toEqual(forOwner);
    for (const who of ['other', 'moderator', 'anonymous'] as const) expect(kinds(got.get(who)), who).toEqual(forOthers);
    // The leave never carries the unpublished content.
    expect(JSON.stringify(got.get('other'))).not.toContain('secret again');
    expect(JSON.stringify(got.get('anonymous'))).not.toContain('unseen draft');
    m.close();
  });

  it('a role rule list ["owner","role:moderator"]: owners their own, moderators all; anonymous callers are refused up front', async () => {
    const rule = ['owner', 'role:moderator'];
    const name = await defineCollection(api.app, {
      name: uniqueName('rt_rolelist'),
      fields: [{ name: 'title', type: 'string' }],
      rules: { list: rule, read: rule, create: 'public', update: 'owner', delete: rule },
    });
    const anonymous = await connectAs(api.ws, undefined);
    expect(await anonymous.request({ type: 'subscribe', collection: name })).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });
    anonymous.close();
    const sse = await http().get(`/v1/realtime/sse?collection=${name}`);
    expect(sse.status).toBe(401);
    expect(sse.body.code).toBe('UNAUTHENTICATED');

    const m = await Matrix.open(name, ['owner', 'other', 'moderator', 'service']);
    const mine = await m.write('create', () => createDoc(api, name, bearer(owner), { title: 'mine' }));
    const theirs = await m.write('create', () => createDoc(api, name, bearer(other), { title: 'theirs' }));
    const ownerless = await m.write('create', () => createDoc(api, name, {}, { title: 'anonymous' }));
    await m.write('update', () => patchDoc(api, name, mine, bearer(owner), { title: 'mine 2' }), mine);
    await m.write('update', () => patchDoc(api, name, theirs, bearer(other), { title: 'theirs 2' }), theirs);
    await m.write('delete', async () => void (await http().delete(`/v1/collections/${name}/documents/${theirs}`).set(bearer(moderator)).expect(204)), theirs);
    await m.write('delete', async () => void (await http().delete(`/v1/collections/${name}/documents/${ownerless}`).set(service).expect(204)), ownerless);
    // Markers: one per owner (no document is visible to every subscriber here).
    const got = await m.check([() => createDoc(api, name, bearer(owner), { title: 'marker o' }), () => createDoc(api, name, bearer(other), { title: 'marker x' })], 'role list');
    const [markerO, markerX] = got.get('moderator')!.slice(-2).map((f) => f.documentId as string);
    expect(kinds(got.get('owner'))).toEqual([`create:${mine}`, `update:${mine}`, `create:${markerO}`]);
    expect(kinds(got.get('other'))).toEqual([`create:${theirs}`, `update:${theirs}`, `delete:${theirs}`, `create:${markerX}`]);
    // A document made anonymously has no owner: only moderators and the service see it.
    expect(kinds(got.get('moderator'))).toEqual(kinds(got.get('service')));
    expect(kinds(got.get('moderator'))).toEqual([
      `create:${mine}`, `create:${theirs}`, `create:${ownerless}`, `update:${mine}`, `update:${theirs}`, `delete:${theirs}`, `delete:${ownerless}`, `create:${markerO}`, `create:${markerX}`,
    ]);
    m.close();
  }, 60_000);

  it('an @auth.emailVerified rule: unverified users are accepted and get nothing, until they verify', async () => {
    const rule = { '@auth.emailVerified': true };
    const name = await defineCollection(api.app, {
      name: uniqueName('rt_verified'),
      fields: [{ name: 'title', type: 'string' }],
      rules: { list: rule, read: rule, create: 'public', update: 'public', delete: 'public' },
    });
    const verified = await createUser(api.app);
    await http().patch(`/v1/admin/users/${verified.id}`).set(service).send({ emailVerified: true }).expect(200);
    const unverified = await createUser(api.app);
    const clients = new Map<string, RtClient>();
    for (const [k, who] of [['verified', verified], ['unverified', unverified], ['anonymous', undefined], ['service', 'service']] as const) {
      const client = await connectAs(api.ws, who);
      await client.subscribe({ collection: name, sub: 'm' });
      clients.set(k, client);
    }
    const one = await createDoc(api, name, service, { title: 'one' });
    await patchDoc(api, name, one, service, { title: 'one 2' });
    await http().get(`/v1/collections/${name}/documents/${one}`).set(bearer(verified)).expect(200);
    await http().get(`/v1/collections/${name}/documents/${one}`).set(bearer(unverified)).expect(404);
    await http().delete(`/v1/collections/${name}/documents/${one}`).set(service).expect(204);
    // The unverified user verifies: from now on their GETs, and their events, see the documents.
    await http().patch(`/v1/admin/users/${unverified.id}`).set(service).send({ emailVerified: true }).expect(200);
    const two = await createDoc(api, name, service, { title: 'two' });
    const viaGet = (await http().get(`/v1/collections/${name}/documents/${two}`).set(bearer(unverified)).expect(200)).body as Record<string, unknown>;
    for (const k of ['verified', 'service']) {
      const client = clients.get(k)!;
      await client.next((f) => f.type === 'event' && f.documentId === two);
      expect(kinds(client.events('m')), k).toEqual([`create:${one}`, `update:${one}`, `delete:${one}`, `create:${two}`]);
    }
    const late = clients.get('unverified')!;
    expect(await late.next((f) => f.type === 'event')).toMatchObject({ event: 'create', documentId: two, document: viaGet });
    expect(kinds(late.events('m'))).toEqual([`create:${two}`]);
    // Anonymous callers never verify: nothing at all (checked after the others received everything).
    expect(clients.get('anonymous')!.events('m')).toEqual([]);
    for (const client of clients.values()) client.close();
  });

  it('refuses a subscription only when the rule shows the caller nothing', async () => {
    const name = await defineCollection(api.app, {
      name: uniqueName('rt_authd'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'published', type: 'boolean' },
      ],
      rules: { list: 'authenticated', read: drafts, create: 'public', update: 'public', delete: 'public' },
    });
    const anonymous = await connectAs(api.ws, undefined);
    expect(await anonymous.request({ type: 'subscribe', collection: name })).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });
    // One document needs only `read`, which can show anonymous callers published documents.
    const id = await createDoc(api, name, service, { title: 'x' });
    await anonymous.subscribe({ id, collection: name, sub: 'one' });
    const user = await connectAs(api.ws, other);
    await user.subscribe({ collection: name, sub: 'all' });
    // An admin-only rule refuses users as FORBIDDEN.
    const admins = await defineCollection(api.app, { name: uniqueName('rt_admins'), fields: [{ name: 'published', type: 'boolean' }], rules: { read: drafts } });
    expect(await user.request({ type: 'subscribe', collection: admins })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    await user.subscribe({ collection: admins, id, sub: 'byId' });
    anonymous.close();
    user.close();
  });
});

describe('cascades', () => {
  it('onDelete cascade and setNull send events to the subscribers of the referencing collections, as GET allows them', async () => {
    const lists = await defineCollection(api.app, {
      name: uniqueName('rt_lists'),
      fields: [{ name: 'title', type: 'string' }],
      rules: { list: 'public', read: 'public', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const items = await defineCollection(api.app, {
      name: uniqueName('rt_items'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'list', type: 'reference', collection: lists, onDelete: 'cascade' },
        { name: 'published', type: 'boolean' },
      ],
      rules: { list: drafts, read: drafts, create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const notes = await defineCollection(api.app, {
      name: uniqueName('rt_notes'),
      fields: [
        { name: 'text', type: 'string' },
        { name: 'list', type: 'reference', collection: lists, onDelete: 'setNull' },
        { name: 'published', type: 'boolean' },
      ],
      rules: { list: drafts, read: drafts, create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const list = await createDoc(api, lists, bearer(owner), { title: 'groceries' });
    const keep = await createDoc(api, lists, bearer(owner), { title: 'other list' });
    const item = await createDoc(api, items, bearer(owner), { title: 'milk', list, published: true });
    const draftItem = await createDoc(api, items, bearer(other), { title: 'eggs', list });
    const note = await createDoc(api, notes, bearer(other), { text: 'note', list, published: true });
    const kept = await createDoc(api, items, bearer(owner), { title: 'kept', list: keep, published: true });

    const sub = async (who: Who, collection: string, extra: Record<string, unknown> = {}) => {
      const client = await connectAs(api.ws, principal(who));
      await client.subscribe({ collection, sub: 'm', ...extra });
      return client;
    };
    const ownerItems = await sub('owner', items);
    const otherItems = await sub('other', items);
    const anonItems = await sub('anonymous', items);
    const ownerNotes = await sub('owner', notes);
    const ofList = await sub('other', notes, { filter: { list } });
    // What each could GET before the delete.
    expect(await getAs('owner', items, draftItem)).toBeNull();
    expect(await getAs('other', items, draftItem)).not.toBeNull();

    await http().delete(`/v1/collections/${lists}/documents/${list}`).set(bearer(owner)).expect(204);
    const afterNote = (await getAs('owner', notes, note))!;
    expect(afterNote).not.toHaveProperty('list');
    // Markers: a later write in each collection proves nothing else was sent before it.
    const itemMarker = await createDoc(api, items, bearer(owner), { title: 'marker', list: keep, published: true });
    const noteMarker = await createDoc(api, notes, bearer(owner), { text: 'marker', published: true });
    for (const client of [ownerItems, otherItems, anonItems]) await client.next((f) => f.documentId === itemMarker);
    for (const client of [ownerNotes, ofList]) await client.next((f) => f.documentId === noteMarker || f.event === 'leave');

    expect(kinds(ownerItems.events('m'))).toEqual([`delete:${item}`, `create:${itemMarker}`]);
    expect(kinds(otherItems.events('m'))).toEqual([`delete:${item}`, `delete:${draftItem}`, `create:${itemMarker}`]);
    expect(kinds(anonItems.events('m'))).toEqual([`delete:${item}`, `create:${itemMarker}`]);
    expect(kinds(ownerItems.events('m'))).not.toContain(`delete:${kept}`);
    // setNull: an update with the document as GET shows it now; a filter on the reference sees it leave.
    expect(ownerNotes.events('m')[0]).toMatchObject({ event: 'update', documentId: note, document: afterNote });
    expect(kinds(ownerNotes.events('m'))).toEqual([`update:${note}`, `create:${noteMarker}`]);
    expect(ofList.events('m').map((f) => `${String(f.event)}:${String(f.documentId)}`)).toEqual([`leave:${note}`]);
    for (const client of [ownerItems, otherItems, anonItems, ownerNotes, ofList]) client.close();
  });
});

describe('scoped API keys', () => {
  it('a storage-scoped key is refused collection subscriptions (API_KEY_SCOPE); a collections-scoped key subscribes', async () => {
    const name = await defineCollection(api.app, {
      name: uniqueName('rt_keys'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'published', type: 'boolean' },
      ],
      rules: { list: drafts, read: drafts, create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const key = async (scopes: string[]) => (await http().post('/v1/admin/api-keys').set(service).send({ name: `rt ${scopes.join(' ')}`, scopes }).expect(201)).body.key as string;
    const storageKey = await key(['storage']);
    const collectionsKey = await key(['collections', 'read-only']);

    const storageClient = await connectAs(api.ws, { apiKey: storageKey });
    expect(await storageClient.request({ type: 'subscribe', collection: name })).toMatchObject({ type: 'error', code: 'API_KEY_SCOPE' });
    const sse = await http().get(`/v1/realtime/sse?collection=${name}`).set('x-api-key', storageKey);
    expect(sse.status).toBe(403);
    expect(sse.body.code).toBe('API_KEY_SCOPE');

    const collectionsClient = await connectAs(api.ws, { apiKey: collectionsKey });
    await collectionsClient.subscribe({ collection: name, sub: 'm' });
    // The service role sees drafts too, as its GET does.
    const draft = await createDoc(api, name, bearer(owner), { title: 'draft', published: false });
    expect(await collectionsClient.next((f) => f.type === 'event')).toMatchObject({ event: 'create', documentId: draft, document: { title: 'draft' } });
    expect(storageClient.frames.filter((f) => f.type === 'event')).toEqual([]);
    storageClient.close();
    collectionsClient.close();
  });
});

describe('rules through a reference (team.members)', () => {
  it('are answered per event by Postgres over the event row: members get the events GET allows them, membership read as it is now', async () => {
    const teams = await defineCollection(api.app, {
      name: uniqueName('rt_teams'),
      fields: [
        { name: 'name', type: 'string' },
        { name: 'members', type: 'array', items: 'string' },
      ],
      rules: { list: 'authenticated', read: 'authenticated', create: 'admin', update: 'admin', delete: 'admin' },
    });
    const member = { 'team.members': { $contains: '@auth.id' } };
    const projects = await defineCollection(api.app, {
      name: uniqueName('rt_projects'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'team', type: 'reference', collection: teams, onDelete: 'cascade' },
      ],
      rules: { list: [member, 'role:moderator'], read: [member, 'role:moderator'], create: 'admin', update: 'admin', delete: 'admin' },
    });
    const team = async (members: string[]) => createDoc(api, teams, service, { name: 't', members });
    const teamA = await team([owner.id]);
    const teamB = await team([other.id]);

    // Anonymous callers are accepted (the rule is SQL for them too) and never see a project.
    const m = await Matrix.open(projects, ['owner', 'other', 'moderator', 'anonymous', 'service']);
    const p = await m.write('create', () => createDoc(api, projects, service, { title: 'p', team: teamA }));
    await m.write('update', () => patchDoc(api, projects, p, service, { title: 'p 2' }), p);
    // Moving the project to team B: a leave for A's member, an update (enter) for B's.
    await m.write('update', () => patchDoc(api, projects, p, service, { team: teamB, title: 'moved' }), p);
    // Membership changes apply from the next event on (the team's change is not a project event).
    await patchDoc(api, teams, teamB, service, { members: [other.id, owner.id] });
    await m.write('update', () => patchDoc(api, projects, p, service, { title: 'shared' }), p);
    await m.write('delete', async () => void (await http().delete(`/v1/collections/${projects}/documents/${p}`).set(service).expect(204)), p);
    const got = await m.check(
      [() => createDoc(api, projects, service, { title: 'marker a', team: teamA }), () => createDoc(api, projects, service, { title: 'marker b', team: teamB })],
      'team',
    );
    const [markerA, markerB] = got.get('moderator')!.slice(-2).map((f) => f.documentId as string);
    expect(kinds(got.get('owner'))).toEqual([`create:${p}`, `update:${p}`, `leave:${p}`, `update:${p}`, `delete:${p}`, `create:${markerA}`, `create:${markerB}`]);
    expect(kinds(got.get('other'))).toEqual([`update:${p}`, `update:${p}`, `delete:${p}`, `create:${markerB}`]);
    expect(got.get('other')![0]).toMatchObject({ document: { title: 'moved', team: teamB } });
    expect(JSON.stringify(got.get('other'))).not.toContain('"p 2"');
    expect(got.get('anonymous')).toEqual([]);
    m.close();

    // A cascade from deleting the team itself: the project's delete event is checked after the
    // team is gone, so a membership rule no longer lets its members see it (roles still do).
    const sub = async (who: Who) => {
      const client = await connectAs(api.ws, principal(who));
      await client.subscribe({ collection: projects, sub: 'c' });
      return client;
    };
    const [ownerC, moderatorC] = [await sub('owner'), await sub('moderator')];
    await http().delete(`/v1/collections/${teams}/documents/${teamA}`).set(service).expect(204);
    expect(await moderatorC.next((f) => f.type === 'event')).toMatchObject({ event: 'delete', documentId: markerA });
    const later = await createDoc(api, projects, service, { title: 'later', team: teamB });
    expect(await ownerC.next((f) => f.type === 'event')).toMatchObject({ event: 'create', documentId: later });
    expect(ownerC.events('c')).toHaveLength(1);
    ownerC.close();
    moderatorC.close();
  });
});
