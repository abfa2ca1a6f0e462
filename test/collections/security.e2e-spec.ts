import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { defineCollection, directPool, service, uniqueName } from './support.js';

const PUBLIC = { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' };

describe('safety of the data api', () => {
  let app: NestFastifyApplication;
  let db: pg.Pool;
  let name: string;
  let docId: string;
  const docs = (id?: string) => `/v1/collections/${name}/documents${id ? `/${id}` : ''}`;

  /**
   * Everything an injection could damage: the rows of this collection, its definition, the
   * definitions and users tables. (Only this file's own rows: other files change theirs meanwhile.)
   */
  const snapshot = async () => {
    const { rows } = await db.query<{ docs: number; content: string; definition: string; tables: boolean }>(
      `SELECT (SELECT count(*)::int FROM data."${name}") AS docs,
              (SELECT md5(string_agg(data::text, ',' ORDER BY id)) FROM data."${name}") AS content,
              (SELECT md5(row_to_json(c)::text) FROM collections c WHERE c.name = $1) AS definition,
              to_regclass('public.users') IS NOT NULL AND to_regclass('public.collections') IS NOT NULL AS tables`,
      [name],
    );
    return rows[0];
  };

  beforeAll(async () => {
    app = await startApi();
    db = directPool();
    name = await defineCollection(app, {
      name: uniqueName('safe'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'n', type: 'integer' },
        { name: 'meta', type: 'json' },
        { name: 'text', type: 'string' },
      ],
      indexes: [['n']],
      rules: PUBLIC,
    });
    for (let n = 0; n < 5; n++) {
      docId = (await request(app.getHttpServer()).post(docs()).send({ title: `t${n}`, n, meta: { a: n } }).expect(201)).body.id;
    }
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  it('injection through field names, sort keys, projections and filter values answers 400 and changes nothing', async () => {
    const before = await snapshot();
    const s = app.getHttpServer();
    const drop = `x'; DROP TABLE data."${name}"; --`;
    const attempts: Record<string, string>[] = [
      { filter: JSON.stringify({ [drop]: 1 }) },
      { filter: JSON.stringify({ "title') OR 1=1 --": 'x' }) },
      { filter: JSON.stringify({ 'meta.a\'; DELETE FROM collections; --': 1 }) },
      { filter: JSON.stringify({ 'data->>title': 'x' }) },
      { filter: JSON.stringify({ n: '1 OR 1=1' }) },
      { filter: JSON.stringify({ n: { $gt: '0); DROP TABLE users; --' } }) },
      { filter: JSON.stringify({ n: { $in: ['1', "2'); DELETE FROM collections; --"] } }) },
      { filter: JSON.stringify({ id: "' OR ''='" }) },
      { filter: JSON.stringify({ createdAt: { $gt: "now()'); DROP TABLE users; --" } }) },
      { filter: JSON.stringify({ title: { $where: 'sleep(10)' } }) },
      { filter: JSON.stringify({ $or: '1=1' }) },
      { filter: JSON.stringify({ $raw: 'TRUE' }) },
      { sort: `title; DROP TABLE data."${name}"` },
      { sort: "data->>'title'" },
      { sort: 'title DESC, (SELECT 1)' },
      { sort: 'meta' },
      { fields: `title,${drop}` },
      { expand: `title;DROP TABLE users` },
      { cursor: Buffer.from(JSON.stringify({ s: 'createdAt,id', v: ["2026-01-01'; DROP TABLE users; --", 'x'] })).toString('base64url') },
    ];
    for (const query of attempts) {
      const res = await request(s).get(docs()).query(query);
      expect({ query, status: res.status, code: res.body.code }).toEqual({ query, status: 400, code: expect.stringMatching(/^INVALID_(FILTER|SORT|FIELDS|CURSOR)$/) });
      // Refused before any SQL ran: no database error text.
      expect(res.body.message).not.toMatch(/syntax error|relation "|column "|pg_/i);
    }
    // The same text as a string value is just a value: bound, matched literally, harmless.
    for (const value of [drop, "' OR 1=1 --", '%', '_', '\\']) {
      const res = await request(s).get(docs()).query({ filter: JSON.stringify({ title: value }) }).expect(200);
      expect(res.body.items).toEqual([]);
      const contains = await request(s).get(docs()).query({ filter: JSON.stringify({ title: { $contains: value } }) }).expect(200);
      expect(contains.body.items).toEqual([]);
    }
    // Through the path, the body and the definition api.
    await request(s).get(`/v1/collections/${encodeURIComponent(`${name}"; DROP TABLE users; --`)}/documents`).expect(400);
    await request(s).post(docs()).send({ [drop]: 1 }).expect(400);
    await request(s).patch(`/v1/collections/${name}`).set(service).send({ fields: [{ name: drop, type: 'string' }] }).expect(400);
    await request(s).patch(`/v1/collections/${name}`).set(service).send({ indexes: [[drop]] }).expect(400);
    expect(await snapshot()).toEqual(before);
  });

  it('rejects prototype-pollution keys anywhere in a body, a filter or a definition', async () => {
    const before = await snapshot();
    const s = app.getHttpServer();
    const raw = (path: string, body: string, method: 'post' | 'patch' = 'post') =>
      request(s)[method](path).set(service).set('content-type', 'application/json').send(body);
    const bodies = [
      '{"__proto__": {"polluted": "yes"}}',
      '{"title": "x", "meta": {"__proto__": {"polluted": "yes"}}}',
      '{"constructor": {"prototype": {"polluted": "yes"}}}',
      '{"title": "x", "meta": {"constructor": {"prototype": {"polluted": "yes"}}}}',
      '{"title": "x", "meta": {"list": [{"prototype": {"polluted": "yes"}}]}}',
      '{"title": "x", "meta": {"constructor": 1}}',
    ];
    for (const body of bodies) {
      expect({ body, status: (await raw(docs(), body)).status }).toEqual({ body, status: 400 });
      expect({ body, status: (await raw(docs(docId), body, 'patch')).status }).toEqual({ body, status: 400 });
    }
    const batch = await raw('/v1/batch', `{"operations": [{"op": "create", "collection": "${name}", "data": {"meta": {"__proto__": {"polluted": "yes"}}}}]}`);
    expect(batch.status).toBe(400);
    const batch2 = await raw('/v1/batch', `{"operations": [{"op": "create", "collection": "${name}", "data": {"meta": {"prototype": 1}}}]}`);
    expect(batch2.status).toBe(400);
    const def = await raw('/v1/collections', `{"name": "${uniqueName('pp')}", "fields": [{"name": "a", "type": "json", "default": {"constructor": {"prototype": {"polluted": "yes"}}}}]}`);
    expect(def.status).toBe(400);
    for (const filter of ['{"__proto__": {"polluted": "yes"}}', '{"meta.__proto__.polluted": "yes"}', '{"$or": [{"constructor": 1}]}', '{"meta": {"$contains": {"prototype": 1}}}']) {
      const res = await request(s).get(docs()).query({ filter });
      expect({ filter, status: res.status }).toEqual({ filter, status: 400 });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(await snapshot()).toEqual(before);
  });

  it('malformed filters and filters over the limits are 400 INVALID_FILTER', async () => {
    const s = app.getHttpServer();
    const nest = (depth: number): unknown => (depth === 0 ? { n: 1 } : { $and: [nest(depth - 1)] });
    const cases: string[] = [
      '{"n": 1',
      'not json',
      '[1, 2]',
      '"n"',
      'null',
      JSON.stringify(nest(7)),
      JSON.stringify({ $or: Array.from({ length: 65 }, (_, i) => ({ n: i })) }),
      JSON.stringify({ n: { $in: Array.from({ length: 101 }, (_, i) => i) } }),
      JSON.stringify({ title: 'x'.repeat(1025) }),
      JSON.stringify({ n: { $gt: 1, title: 2 } }),
      JSON.stringify({ 'meta.a.b.c.d.e.f.g.h': 1 }),
      JSON.stringify({ n: { $contains: 1 } }),
      JSON.stringify({ title: { $exists: 'yes' } }),
      JSON.stringify({ $and: [] }),
    ];
    for (const filter of cases) {
      const res = await request(s).get(docs()).query({ filter });
      expect({ filter: filter.slice(0, 60), status: res.status, code: res.body.code }).toEqual({ filter: filter.slice(0, 60), status: 400, code: 'INVALID_FILTER' });
      expect(res.body.details[0].path).toMatch(/^filter/);
    }
    // Longer than the query limit: rejected before it is parsed.
    const huge = await request(s).get(docs()).query({ filter: JSON.stringify({ title: 'y'.repeat(9000) }) });
    expect(huge.status).toBe(400);
    // At the limits it works.
    await request(s).get(docs()).query({ filter: JSON.stringify(nest(6)) }).expect(200);
    await request(s).get(docs()).query({ filter: JSON.stringify({ n: { $in: Array.from({ length: 100 }, (_, i) => i) } }) }).expect(200);
  });

  it('$contains searches long stored strings literally, with a worst-case needle, and finds the match', async () => {
    const long = await defineCollection(app, { name: uniqueName('long'), fields: [{ name: 'text', type: 'string' }], rules: PUBLIC });
    // 40 documents of 512 KiB of "a": a naive substring search for "aaa…ab" would compare ~10^10 characters.
    await db.query(`INSERT INTO data."${long}" (id, data) SELECT gen_random_uuid(), jsonb_build_object('text', repeat('a', 524288)) FROM generate_series(1, 40)`);
    await db.query(`INSERT INTO data."${long}" (id, data) VALUES (gen_random_uuid(), jsonb_build_object('text', repeat('a', 524288) || 'b'))`);
    const needle = `${'a'.repeat(1000)}b`;
    const res = await request(app.getHttpServer())
      .get(`/v1/collections/${long}/documents`)
      .query({ filter: JSON.stringify({ text: { $contains: needle } }), fields: 'id', count: 'true' })
      .expect(200);
    expect(res.body.count).toBe(1);
    expect(res.body.items).toHaveLength(1);
    const wildcard = await request(app.getHttpServer())
      .get(`/v1/collections/${long}/documents`)
      .query({ filter: JSON.stringify({ text: { $contains: '%a%a%a%a%a%a%a%a%b' } }), fields: 'id' })
      .expect(200);
    expect(wildcard.body.items).toEqual([]);
  });
});
