import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { SERVICE_KEY } from '../support/config.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, directPool, uniqueName } from '../collections/support.js';

/**
 * Issue 11, finding 5 and its class: no value a client sends may reach Postgres in a form it
 * cannot store (U+0000, a lone UTF-16 surrogate, a number beyond float8, a date that does
 * not exist or lies outside timestamptz). Every route that takes input is fuzzed at every
 * value position: the answer is 400 VALIDATION_FAILED naming the field, never a 500.
 */

/** Raw JSON texts of the bad values (JSON.stringify cannot write 1e400 or keep a lone surrogate escaped). */
const BAD_VALUES = [
  { name: 'U+0000', json: '"a\\u0000b"', message: /U\+0000/ },
  { name: 'U+0000 alone', json: '"\\u0000"', message: /U\+0000/ },
  { name: 'lone high surrogate', json: '"x\\ud800"', message: /surrogate/ },
  { name: 'lone low surrogate', json: '"\\udc00y"', message: /surrogate/ },
  { name: '1e400', json: '1e400', message: /finite/ },
  { name: '-1e400', json: '-1e400', message: /finite/ },
] as const;
const BAD_KEYS = BAD_VALUES.filter((b) => b.json.startsWith('"'));

const BAD = '__BAD__';
const BAD_KEY = '__BADKEY__';

/** The body as JSON text with the placeholder replaced by the raw bad value. */
function withBad(body: unknown, json: string): string {
  const text = JSON.stringify(body);
  if (!text.includes(`"${BAD}"`) && !text.includes(`"${BAD_KEY}"`)) throw new Error('no placeholder in the case');
  return text.replace(`"${BAD}"`, json).replace(`"${BAD_KEY}"`, json);
}

type Auth = 'service' | 'admin' | 'user' | 'anonymous';
interface BodyCase {
  name: string;
  method: 'post' | 'put' | 'patch';
  url: string;
  auth: Auth;
  body: unknown;
  /** The detail path the answer must name. */
  path: string;
}

describe('input values that Postgres cannot store (issue 11, finding 5)', () => {
  let app: NestFastifyApplication;
  let admin: TestUser;
  let user: TestUser;
  let collection: string;
  let docId: string;
  let bucket: string;
  const http = () => request(app.getHttpServer());
  const fn = `fuzz-${randomUUID().slice(0, 8)}`;

  function authed(req: request.Test, auth: Auth): request.Test {
    if (auth === 'service') return req.set('x-api-key', SERVICE_KEY);
    if (auth === 'admin') return req.set(bearer(admin));
    if (auth === 'user') return req.set(bearer(user));
    return req;
  }

  beforeAll(async () => {
    app = await startApi();
    admin = await createUser(app, { roles: ['admin'] });
    user = await createUser(app);
    collection = await defineCollection(app, {
      name: uniqueName('fuzz'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'n', type: 'number' },
        { name: 'i', type: 'integer' },
        { name: 'when', type: 'date' },
        { name: 'meta', type: 'json' },
        { name: 'tags', type: 'array', items: 'string' },
      ],
      rules: { list: 'public', read: 'public', create: 'authenticated', update: 'authenticated', delete: 'authenticated' },
    });
    const doc = await http().post(`/v1/collections/${collection}/documents`).set(bearer(user)).send({ title: 'x' }).expect(201);
    docId = doc.body.id as string;
    bucket = `fuzz-${randomUUID().slice(0, 8)}`;
    await http().post('/v1/storage/buckets').set('x-api-key', SERVICE_KEY).send({ name: bucket, public: false }).expect(201);
    await http()
      .put(`/v1/functions/${fn}`)
      .set('x-api-key', SERVICE_KEY)
      .send({ source: 'export default async (event) => event.payload', triggers: [{ type: 'http' }] })
      .expect((res) => expect([200, 201]).toContain(res.status));
  });
  afterAll(async () => {
    await app.close();
  });

  const bodyCases = (): BodyCase[] => {
    const docs = `/v1/collections/${collection}/documents`;
    return [
      // documents: every field type, json keys and values, array items, acl, via create/replace/patch/batch
      { name: 'document string field', method: 'post', url: docs, auth: 'user', body: { title: BAD }, path: 'title' },
      { name: 'document number field', method: 'post', url: docs, auth: 'user', body: { n: BAD }, path: 'n' },
      { name: 'document integer field', method: 'post', url: docs, auth: 'user', body: { i: BAD }, path: 'i' },
      { name: 'document date field', method: 'post', url: docs, auth: 'user', body: { when: BAD }, path: 'when' },
      { name: 'document json value', method: 'post', url: docs, auth: 'user', body: { meta: { a: [1, { b: BAD }] } }, path: 'meta.a.1.b' },
      { name: 'document json key', method: 'post', url: docs, auth: 'user', body: { meta: { [BAD_KEY]: 1 } }, path: 'meta' },
      { name: 'document array item', method: 'post', url: docs, auth: 'user', body: { tags: ['ok', BAD] }, path: 'tags.1' },
      { name: 'document acl entry', method: 'post', url: docs, auth: 'user', body: { title: 't', acl: { read: [BAD] } }, path: 'acl.read.0' },
      { name: 'document unknown key', method: 'post', url: docs, auth: 'user', body: { [BAD_KEY]: 'x' }, path: '' },
      { name: 'document replace', method: 'put', url: `${docs}/${docId}`, auth: 'user', body: { title: BAD }, path: 'title' },
      { name: 'document patch', method: 'patch', url: `${docs}/${docId}`, auth: 'user', body: { meta: { deep: BAD } }, path: 'meta.deep' },
      {
        name: 'batch, second operation',
        method: 'post',
        url: '/v1/batch',
        auth: 'user',
        body: { operations: [{ op: 'create', collection, data: { title: 'fine' } }, { op: 'create', collection, data: { title: BAD } }] },
        path: 'operations.1.data.title',
      },
      // collections (admin)
      { name: 'collection field name', method: 'post', url: '/v1/collections', auth: 'admin', body: { name: 'c_x', fields: [{ name: BAD, type: 'string' }], rules: {} }, path: 'fields.0.name' },
      { name: 'collection rule expression', method: 'patch', url: `/v1/collections/${collection}`, auth: 'admin', body: { rules: { list: BAD } }, path: 'rules.list' },
      { name: 'collection default', method: 'patch', url: `/v1/collections/${collection}`, auth: 'admin', body: { fields: [{ name: 'title', type: 'string', default: BAD }] }, path: 'fields.0.default' },
      // functions
      { name: 'anonymous invoke body', method: 'post', url: `/v1/functions/${fn}/invoke`, auth: 'anonymous', body: { name: BAD }, path: 'name' },
      { name: 'invoke body key', method: 'post', url: `/v1/functions/${fn}/invoke`, auth: 'anonymous', body: { nested: { [BAD_KEY]: true } }, path: 'nested' },
      { name: 'deploy source', method: 'put', url: `/v1/functions/${fn}`, auth: 'service', body: { source: BAD, triggers: [{ type: 'http' }] }, path: 'source' },
      { name: 'deploy secret', method: 'put', url: `/v1/functions/${fn}`, auth: 'service', body: { source: 'export default () => 1', secrets: { K: BAD } }, path: 'secrets.K' },
      { name: 'deploy trigger', method: 'put', url: `/v1/functions/${fn}`, auth: 'service', body: { source: 'export default () => 1', triggers: [{ type: 'schedule', cron: BAD }] }, path: 'triggers.0.cron' },
      // email
      { name: 'email text', method: 'post', url: '/v1/email/send', auth: 'service', body: { to: 'a@example.test', subject: 's', text: BAD }, path: 'text' },
      { name: 'email subject', method: 'post', url: '/v1/email/send', auth: 'service', body: { to: 'a@example.test', subject: BAD, text: 't' }, path: 'subject' },
      { name: 'email html', method: 'post', url: '/v1/email/send', auth: 'service', body: { to: 'a@example.test', subject: 's', html: BAD }, path: 'html' },
      { name: 'email template data', method: 'post', url: '/v1/email/send', auth: 'service', body: { to: 'a@example.test', template: 'verification', data: { link: BAD } }, path: 'data.link' },
      { name: 'email template source', method: 'put', url: '/v1/email/templates/fuzz', auth: 'service', body: { subject: 's', text: BAD }, path: 'text' },
      // auth
      { name: 'signup email', method: 'post', url: '/v1/auth/signup', auth: 'anonymous', body: { email: BAD, password: 'long enough pw' }, path: 'email' },
      { name: 'signup password', method: 'post', url: '/v1/auth/signup', auth: 'anonymous', body: { email: `${randomUUID()}@example.test`, password: BAD }, path: 'password' },
      { name: 'login password', method: 'post', url: '/v1/auth/login', auth: 'anonymous', body: { email: 'a@example.test', password: BAD }, path: 'password' },
      { name: 'reset request email', method: 'post', url: '/v1/auth/password-reset/request', auth: 'anonymous', body: { email: BAD }, path: 'email' },
      { name: 'reset password', method: 'post', url: '/v1/auth/password-reset', auth: 'anonymous', body: { token: 'x'.repeat(40), password: BAD }, path: 'password' },
      { name: 'magic link token', method: 'post', url: '/v1/auth/magic-link/verify', auth: 'anonymous', body: { token: BAD }, path: 'token' },
      { name: 'change password', method: 'patch', url: '/v1/auth/me', auth: 'user', body: { currentPassword: BAD, password: 'a new long password' }, path: 'currentPassword' },
      // admin
      { name: 'admin roles', method: 'patch', url: `/v1/admin/users/${randomUUID()}`, auth: 'admin', body: { roles: [BAD] }, path: 'roles.0' },
      { name: 'api key name', method: 'post', url: '/v1/admin/api-keys', auth: 'admin', body: { name: BAD }, path: 'name' },
      // storage
      { name: 'bucket name', method: 'post', url: '/v1/storage/buckets', auth: 'service', body: { name: BAD }, path: 'name' },
      { name: 'bucket mime types', method: 'post', url: '/v1/storage/buckets', auth: 'service', body: { name: 'fz-b', allowedMimeTypes: [BAD] }, path: 'allowedMimeTypes.0' },
      { name: 'upload-url key', method: 'post', url: `/v1/storage/buckets/${bucket}/upload-url`, auth: 'user', body: { key: BAD, size: 1, contentType: 'text/plain' }, path: 'key' },
      { name: 'upload-url content type', method: 'post', url: `/v1/storage/buckets/${bucket}/upload-url`, auth: 'user', body: { size: 1, contentType: BAD }, path: 'contentType' },
      { name: 'upload-url size', method: 'post', url: `/v1/storage/buckets/${bucket}/upload-url`, auth: 'user', body: { size: BAD, contentType: 'text/plain' }, path: 'size' },
      { name: 'upload-url acl', method: 'post', url: `/v1/storage/buckets/${bucket}/upload-url`, auth: 'user', body: { size: 1, contentType: 'text/plain', acl: { read: [BAD] } }, path: 'acl.read.0' },
    ];
  };

  it('refuses every bad value at every body position with 400 VALIDATION_FAILED naming it', async () => {
    const failures: string[] = [];
    for (const c of bodyCases()) {
      for (const bad of c.body && JSON.stringify(c.body).includes(BAD_KEY) ? BAD_KEYS : BAD_VALUES) {
        const res = await authed(http()[c.method](c.url), c.auth).set('content-type', 'application/json').send(withBad(c.body, bad.json));
        const paths = ((res.body.details ?? []) as { path: string; message: string }[]).map((d) => d.path);
        const ok = res.status === 400 && res.body.code === 'VALIDATION_FAILED' && paths.some((p) => p === c.path || p.startsWith(`${c.path}.`) || (c.path === '' && p !== undefined));
        if (!ok) failures.push(`${c.name} / ${bad.name}: ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a batch whose second operation holds such a value applies nothing and names the operation', async () => {
    const title = `batch-${randomUUID()}`;
    const body = { operations: [{ op: 'create', collection, data: { title } }, { op: 'create', collection, data: { title: BAD } }] };
    const res = await http().post('/v1/batch').set(bearer(user)).set('content-type', 'application/json').send(withBad(body, '"\\u0000"')).expect(400);
    expect(res.body.details[0].path).toBe('operations.1.data.title');
    const list = await http().get(`/v1/collections/${collection}/documents`).query({ filter: JSON.stringify({ title }) }).expect(200);
    expect(list.body.items).toEqual([]);
  });

  it('refuses bad values in every filter position (equality, operators, $in, dot paths, json and array $contains)', async () => {
    const filters: [unknown, string][] = [
      [{ title: BAD }, 'title'],
      [{ title: { $eq: BAD } }, 'title.$eq'],
      [{ title: { $ne: BAD } }, 'title.$ne'],
      [{ title: { $contains: BAD } }, 'title.$contains'],
      [{ title: { $startsWith: BAD } }, 'title.$startsWith'],
      [{ title: { $in: ['a', BAD] } }, 'title.$in.1'],
      [{ title: { $nin: [BAD] } }, 'title.$nin.0'],
      [{ title: { $gt: BAD } }, 'title.$gt'],
      [{ n: { $lt: BAD } }, 'n.$lt'],
      [{ i: { $gte: BAD } }, 'i.$gte'],
      [{ when: { $lte: BAD } }, 'when.$lte'],
      [{ 'meta.a.b': BAD }, 'meta.a.b'],
      [{ 'meta.a': { $contains: BAD } }, 'meta.a.$contains'],
      [{ 'meta.a': { $in: [BAD] } }, 'meta.a.$in.0'],
      [{ meta: { $contains: { k: BAD } } }, 'meta.$contains.k'],
      [{ meta: { $eq: { k: [BAD] } } }, 'meta.$eq.k.0'],
      [{ tags: { $contains: BAD } }, 'tags.$contains'],
      [{ $or: [{ title: 'x' }, { title: BAD }] }, '$or.1.title'],
      [{ $not: { title: BAD } }, '$not.title'],
    ];
    const failures: string[] = [];
    for (const [filter, path] of filters) {
      for (const bad of BAD_VALUES) {
        const res = await http().get(`/v1/collections/${collection}/documents`).query({ filter: withBad(filter, bad.json) });
        const paths = ((res.body.details ?? []) as { path: string }[]).map((d) => d.path);
        if (res.status !== 400 || res.body.code !== 'INVALID_FILTER' || !paths.includes(`filter.${path}`)) {
          failures.push(`${JSON.stringify(filter)} / ${bad.name}: ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
    }
    // Filter keys too.
    const res = await http().get(`/v1/collections/${collection}/documents`).query({ filter: withBad({ meta: { $contains: { [BAD_KEY]: 1 } } }, '"k\\u0000"') });
    if (res.status !== 400) failures.push(`filter key: ${res.status} ${res.text}`);
    expect(failures).toEqual([]);
  });

  it('refuses numbers and dates outside what Postgres (and JSON numbers) can hold, naming the field', async () => {
    const docs = `/v1/collections/${collection}/documents`;
    const raw: [string, string, string][] = [
      [docs, '{"i": 9223372036854775808}', 'i'],
      [docs, '{"i": -9223372036854775809}', 'i'],
      [docs, '{"i": 1e20}', 'i'],
      [docs, '{"n": 1e309}', 'n'],
      [docs, '{"when": "0000-01-01"}', 'when'],
      [docs, '{"when": "-000001-01-01T00:00:00Z"}', 'when'],
      [docs, '{"when": "+275760-09-13T00:00:00Z"}', 'when'],
      [docs, '{"when": "10000-01-01T00:00:00Z"}', 'when'],
      [docs, '{"when": "2026-13-45T25:61:61Z"}', 'when'],
      ['/v1/storage/buckets', '{"name": "fz-big", "maxFileSize": 1e20}', 'maxFileSize'],
      [`/v1/storage/buckets/${bucket}/upload-url`, '{"size": 1e400, "contentType": "text/plain"}', 'size'],
    ];
    const failures: string[] = [];
    for (const [url, body, path] of raw) {
      const res = await authed(http().post(url), url === docs ? 'user' : 'service').set('content-type', 'application/json').send(body);
      const paths = ((res.body.details ?? []) as { path: string }[]).map((d) => d.path);
      if (res.status !== 400 || !paths.includes(path)) failures.push(`${url} ${body}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    for (const filter of ['{"when":{"$gt":"+275760-09-13T00:00:00Z"}}', '{"createdAt":{"$lt":"0000-01-01"}}', '{"i":{"$gt":1e400}}']) {
      const res = await http().get(docs).query({ filter });
      if (res.status !== 400) failures.push(`filter ${filter}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    for (const query of ['limit=1e400', 'limit=99999999999999999999']) {
      const res = await http().get(`${docs}?${query}`);
      if (res.status !== 400) failures.push(`${query}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });

  it('refuses cursors holding U+0000, impossible dates or dates outside the timestamptz range', async () => {
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const id = randomUUID();
    const cursors: [string, string][] = [
      [`/v1/collections/${collection}/documents?cursor=${b64({ s: 'createdAt,id', v: ['2026-13-45T25:61:61Z', id] })}`, 'impossible date'],
      [`/v1/collections/${collection}/documents?cursor=${b64({ s: 'createdAt,id', v: ['2026-02-30 10:00:00+00', id] })}`, 'Feb 30'],
      [`/v1/collections/${collection}/documents?cursor=${b64({ s: 'createdAt,id', v: ['0000-01-01 00:00:00+00', id] })}`, 'year 0'],
      [`/v1/collections/${collection}/documents?sort=title&cursor=${b64({ s: 'title,id', v: ['a\u0000', id] })}`, 'NUL in text key'],
      [`/v1/collections/${collection}/documents?sort=title&cursor=${b64({ s: 'title,id', v: ['\ud800', id] })}`, 'surrogate in text key'],
      [`/v1/functions/${fn}/runs?cursor=${b64({ t: '+275000-01-01T00:00:00.000Z', i: id })}`, 'function runs: year 275000'],
      [`/v1/functions/${fn}/runs?cursor=${b64({ t: '-271000-01-01T00:00:00.000Z', i: id })}`, 'function runs: year -271000'],
      [`/v1/email/messages?cursor=${b64({ t: '+275000-01-01T00:00:00.000Z', i: id })}`, 'email messages: year 275000'],
    ];
    const failures: string[] = [];
    for (const [url, name] of cursors) {
      const res = await http().get(url).set('x-api-key', SERVICE_KEY);
      const paths = ((res.body.details ?? []) as { path: string }[]).map((d) => d.path);
      if (res.status !== 400 || !paths.includes('cursor')) failures.push(`${name}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });

  it('refuses U+0000 in query strings and path parameters of every route', async () => {
    const urls = [
      `/v1/storage/buckets/${bucket}/files?prefix=a%00b`,
      '/v1/admin/users?search=a%00b',
      '/v1/email/messages?to=a%00b',
      `/v1/collections/${collection}/documents?fields=title%00`,
      `/v1/collections/a%00b/documents`,
      '/v1/email/templates/a%00b',
      '/v1/functions/a%00b',
    ];
    const failures: string[] = [];
    for (const url of urls) {
      const res = await http().get(url).set('x-api-key', SERVICE_KEY);
      if (res.status !== 400 || res.body.code !== 'VALIDATION_FAILED') failures.push(`${url}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });

  it('refuses such values in multipart upload fields (key, acl) and keeps nothing', async () => {
    for (const [field, value] of [
      ['key', 'a\u0000b'],
      ['key', 'x\ud800'],
      ['acl', '{"read":["\\u0000"]}'],
    ] as const) {
      const res = await http()
        .post(`/v1/storage/buckets/${bucket}/files`)
        .set(bearer(user))
        .field(field, value)
        .attach('file', Buffer.from('hello'), { filename: 'a.txt', contentType: 'text/plain' });
      expect(res.status, `${field}=${JSON.stringify(value)}`).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details[0].path).toBe(field);
    }
  });

  it('an unexpected failure of one operation in a non-transactional batch is that operation\'s result; the others are reported', async () => {
    // A database trigger makes the second operation fail in a way the api cannot foresee.
    const db = directPool();
    try {
      await db.query(`CREATE OR REPLACE FUNCTION data.fuzz_explode() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.data->>'title' = 'explode' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`);
      await db.query(`CREATE TRIGGER fuzz_explode BEFORE INSERT ON data."${collection}" FOR EACH ROW EXECUTE FUNCTION data.fuzz_explode()`);
      const title = `first-${randomUUID()}`;
      const res = await http()
        .post('/v1/batch')
        .set(bearer(user))
        .send({
          operations: [
            { op: 'create', collection, data: { title } },
            { op: 'create', collection, data: { title: 'explode' } },
            { op: 'create', collection, data: { title: `${title}-3` } },
          ],
        })
        .expect(200);
      expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([201, 500, 201]);
      expect(res.body.results[1].error).toEqual({ code: 'INTERNAL_ERROR', message: expect.any(String) });
      expect(res.text).not.toMatch(/boom|plpgsql|trigger/i);
      const first = await http().get(`/v1/collections/${collection}/documents/${res.body.results[0].document.id}`).expect(200);
      expect(first.body.title).toBe(title);
    } finally {
      await db.query(`DROP TRIGGER IF EXISTS fuzz_explode ON data."${collection}"`);
      await db.end();
    }
  });
});
