import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../apps/api/src/auth/caller.js';
import { CollectionsService } from '../../apps/api/src/collections/collections.service.js';
import { indexSpecs } from '../../apps/api/src/collections/ddl.js';
import { buildCountQuery, buildListQuery } from '../../apps/api/src/collections/documents/documents.repository.js';
import { parseSort } from '../../apps/api/src/collections/documents/paging.js';
import { startApi } from '../support/app.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { defineCollection, directPool, service, uniqueName } from './support.js';

const PUBLIC = { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' };

describe('collection definitions', () => {
  let app: NestFastifyApplication;
  let db: pg.Pool;
  let user: TestUser;
  let admin: TestUser;

  const indexesOf = async (name: string) =>
    (await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = 'data' AND tablename = $1`, [name])).rows
      .map((r) => r.indexname)
      .sort();

  beforeAll(async () => {
    app = await startApi();
    db = directPool();
    user = await createUser(app);
    admin = await createUser(app, { roles: ['admin'] });
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  it('only admins and the service role may define, list, read, change and delete definitions', async () => {
    const s = app.getHttpServer();
    const body = { name: uniqueName('adm'), fields: [{ name: 'a', type: 'string' }] };
    await request(s).post('/v1/collections').send(body).expect(401);
    await request(s).post('/v1/collections').set(bearer(user)).send(body).expect(403);
    await request(s).get('/v1/collections').set(bearer(user)).expect(403);
    const created = await request(s).post('/v1/collections').set(bearer(admin)).send(body).expect(201);
    expect(created.body).toMatchObject({
      name: body.name,
      fields: [{ name: 'a', type: 'string' }],
      indexes: [],
      rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
    });
    await request(s).get(`/v1/collections/${body.name}`).set(bearer(user)).expect(403);
    await request(s).patch(`/v1/collections/${body.name}`).set(bearer(user)).send({ rules: { read: 'public' } }).expect(403);
    await request(s).delete(`/v1/collections/${body.name}`).set(bearer(user)).expect(403);
    const listed = await request(s).get('/v1/collections').set(service).expect(200);
    expect((listed.body.items as { name: string }[]).map((c) => c.name)).toContain(body.name);
    expect(listed.body.nextCursor).toBeNull();
    await request(s).post('/v1/collections').set(service).send(body).expect(409);
  });

  it('rejects invalid definitions with a detail for each problem', async () => {
    const s = app.getHttpServer();
    const bad: [Record<string, unknown>, string][] = [
      [{ name: "x'); DROP TABLE users; --" }, 'name'],
      [{ name: '9lives' }, 'name'],
      [{ name: 'users' }, 'name'],
      [{ name: uniqueName('b'), fields: [{ name: 'id', type: 'string' }] }, 'fields.0.name'],
      [{ name: uniqueName('b'), fields: [{ name: 'constructor', type: 'string' }] }, 'fields.0.name'],
      [{ name: uniqueName('b'), fields: [{ name: 'a-b', type: 'string' }] }, 'fields.0.name'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'blob' }] }, 'fields.0.type'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'string' }, { name: 'a', type: 'number' }] }, 'fields.1.name'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'string' }], indexes: [['b']] }, 'indexes.0.0'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'reference', collection: 'nowhere' }] }, 'fields.0.collection'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'reference' }] }, 'fields.0.collection'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'string', pattern: '(a+)+$' }] }, 'fields.0.pattern'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'string', pattern: '([' }] }, 'fields.0.pattern'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'integer', default: 'x' }] }, 'fields.0.default'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'json', unique: true }] }, 'fields.0.unique'],
      [{ name: uniqueName('b'), fields: [{ name: 'a', type: 'number', min: 5, max: 1 }] }, 'fields.0.max'],
      [{ name: uniqueName('b'), rules: { read: 'everyone' } }, 'rules.read'],
      [{ name: uniqueName('b'), extra: true }, ''],
    ];
    for (const [body, path] of bad) {
      const res = await request(s).post('/v1/collections').set(service).send(body);
      expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
      expect((res.body.details as { path: string }[]).map((d) => d.path)).toContain(path);
    }
    const { rows } = await db.query(`SELECT to_regclass('public.users') IS NOT NULL AS ok`);
    expect(rows[0].ok).toBe(true);
  });

  it('creates the table with its indexes, and changes indexes with the definition', async () => {
    const name = await defineCollection(app, {
      name: uniqueName('idx'),
      fields: [
        { name: 'email', type: 'string', unique: true },
        { name: 'score', type: 'number' },
        { name: 'tags', type: 'array' },
      ],
      indexes: [['score', 'createdAt'], ['tags']],
      rules: PUBLIC,
    });
    // pk + (created_at, id) + (owner_id, created_at, id) + unique email + 2 declared.
    const before = await indexesOf(name);
    expect(before).toHaveLength(6);
    await request(app.getHttpServer())
      .patch(`/v1/collections/${name}`)
      .set(service)
      .send({ fields: [{ name: 'email', type: 'string' }, { name: 'score', type: 'number' }, { name: 'tags', type: 'array' }], indexes: [['score']] })
      .expect(200);
    const after = await indexesOf(name);
    expect(after).toHaveLength(4);
    expect(before.filter((n) => after.includes(n))).toHaveLength(3);
  });

  it('queries on declared fields use the indexes created for them', async () => {
    const name = await defineCollection(app, {
      name: uniqueName('plan'),
      fields: [
        { name: 'email', type: 'string', unique: true },
        { name: 'score', type: 'number' },
        { name: 'tags', type: 'array', items: 'string' },
      ],
      indexes: [['score'], ['tags']],
      rules: PUBLIC,
    });
    await db.query(
      `INSERT INTO data."${name}" (id, data) SELECT gen_random_uuid(), jsonb_build_object('email', 'u' || g || '@x', 'score', g % 100, 'tags', jsonb_build_array('t' || (g % 50)))
       FROM generate_series(1, 3000) g`,
    );
    await db.query(`ANALYZE data."${name}"`);
    const def = (await app.get(CollectionsService).definition(name))!;
    const specs = indexSpecs(def);
    const anyone: Caller = { kind: 'anonymous' };
    /** The plan of a page query (with `sort`), or of the count query (`'count'`). */
    const plan = async (filter: Record<string, unknown>, sort?: string, after?: (string | null)[]) => {
      const query =
        sort === 'count' ? buildCountQuery(def, anyone, filter)! : buildListQuery(def, anyone, { filter, sort: parseSort(def, sort), after, limit: 20 })!;
      const client = await db.connect();
      try {
        // Small tables favour sequential scans; forbidding them shows whether an index can serve the query.
        await client.query('SET enable_seqscan = off');
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.text}`, query.values);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await client.query('RESET enable_seqscan');
        client.release();
      }
    };
    const nameOf = (field: string, unique: boolean) => specs.find((s) => s.fields[0] === field && s.unique === unique)!.name;
    expect(await plan({ email: 'u42@x' })).toContain(nameOf('email', true));
    expect(await plan({ score: { $gte: 90 } }, 'score')).toContain(nameOf('score', false));
    expect(await plan({ tags: { $contains: 't7' } }, 'count')).toContain(nameOf('tags', false));
    expect(await plan({ score: 5 }, 'count')).toContain(nameOf('score', false));
    // A page deep into the order starts where the cursor points, in both directions.
    const cursor = ['50', '00000000-0000-4000-8000-000000000000'];
    expect(await plan({}, '-score', cursor)).toMatch(/Index Cond: \(.*<= '50'::numeric\)/);
    const asc = await plan({}, 'score', cursor);
    expect(asc).toMatch(/Index Cond: \(.*>= '50'::numeric\)/);
    expect(asc).toMatch(/Index Cond: \(.* IS NULL\)/);
    expect(await plan({}, '-createdAt', ['2026-01-01 00:00:00+00', cursor[1]!])).toMatch(/Index Cond: \(created_at <= /);
    const res = await request(app.getHttpServer())
      .get(`/v1/collections/${name}/documents`)
      .query({ filter: JSON.stringify({ tags: { $contains: 't7' } }), count: 'true', limit: 1 })
      .expect(200);
    expect(res.body.count).toBe(60);
  });

  describe('changing a collection keeps existing data safe', () => {
    let name: string;
    const docs = () => `/v1/collections/${name}/documents`;

    beforeAll(async () => {
      name = await defineCollection(app, {
        name: uniqueName('evolve'),
        fields: [
          { name: 'code', type: 'string' },
          { name: 'qty', type: 'number' },
          { name: 'note', type: 'string' },
        ],
        rules: PUBLIC,
      });
      for (const doc of [{ code: 'a', qty: 1, note: 'keep me' }, { code: 'a', qty: 2.5 }, { code: '17', qty: 3 }]) {
        await request(app.getHttpServer()).post(docs()).set(service).send(doc).expect(201);
      }
    });

    it('refuses a type change the stored values do not fit, and allows one they fit', async () => {
      const s = app.getHttpServer();
      const refused = await request(s)
        .patch(`/v1/collections/${name}`)
        .set(service)
        .send({ fields: [{ name: 'code', type: 'integer' }, { name: 'qty', type: 'integer' }, { name: 'note', type: 'string' }] })
        .expect(409);
      expect(refused.body.code).toBe('DATA_CONFLICT');
      expect(refused.body.details).toEqual([
        { path: 'fields.0.type', message: expect.stringMatching(/^3 stored/) },
        { path: 'fields.1.type', message: expect.stringMatching(/^1 stored/) },
      ]);
      const unchanged = await request(s).get(`/v1/collections/${name}`).set(service).expect(200);
      expect(unchanged.body.fields[0]).toEqual({ name: 'code', type: 'string' });

      await request(s)
        .patch(`/v1/collections/${name}`)
        .set(service)
        .send({ fields: [{ name: 'code', type: 'string' }, { name: 'qty', type: 'number' }, { name: 'note', type: 'string' }, { name: 'extra', type: 'json' }] })
        .expect(200);
    });

    it('refuses a unique constraint the stored values break', async () => {
      const res = await request(app.getHttpServer())
        .patch(`/v1/collections/${name}`)
        .set(service)
        .send({ fields: [{ name: 'code', type: 'string', unique: true }, { name: 'qty', type: 'number' }, { name: 'note', type: 'string' }] })
        .expect(409);
      expect(res.body.details).toEqual([{ path: 'fields.0.unique', message: expect.stringContaining('code') }]);
      expect(await indexesOf(name)).toHaveLength(3);
    });

    it('a removed field is hidden, not deleted: declaring it again brings its values back', async () => {
      const s = app.getHttpServer();
      await request(s).patch(`/v1/collections/${name}`).set(service).send({ fields: [{ name: 'code', type: 'string' }, { name: 'qty', type: 'number' }] }).expect(200);
      const hidden = await request(s).get(docs()).query({ sort: 'qty' }).expect(200);
      expect(hidden.body.items[0]).not.toHaveProperty('note');
      const filterOnRemoved = await request(s).get(docs()).query({ filter: JSON.stringify({ note: 'keep me' }) }).expect(400);
      expect(filterOnRemoved.body.code).toBe('INVALID_FILTER');
      await request(s)
        .patch(`/v1/collections/${name}`)
        .set(service)
        .send({ fields: [{ name: 'code', type: 'string' }, { name: 'qty', type: 'number' }, { name: 'note', type: 'string' }] })
        .expect(200);
      const back = await request(s).get(docs()).query({ sort: 'qty' }).expect(200);
      expect(back.body.items[0].note).toBe('keep me');
    });

    it('rules change at once', async () => {
      const s = app.getHttpServer();
      await request(s).patch(`/v1/collections/${name}`).set(service).send({ rules: { list: 'admin' } }).expect(200);
      const res = await request(s).get(docs()).expect(200);
      expect(res.body.items).toEqual([]);
      const def = await request(s).get(`/v1/collections/${name}`).set(service).expect(200);
      expect(def.body.rules).toEqual({ ...PUBLIC, list: 'admin' });
    });
  });

  it('deleting: refused while referenced or not empty, force drops the documents and the table', async () => {
    const s = app.getHttpServer();
    const target = await defineCollection(app, { name: uniqueName('target'), fields: [{ name: 'a', type: 'string' }], rules: PUBLIC });
    const source = await defineCollection(app, {
      name: uniqueName('source'),
      fields: [{ name: 'ref', type: 'reference', collection: target }],
      rules: PUBLIC,
    });
    await request(s).post(`/v1/collections/${target}/documents`).send({ a: 'x' }).expect(201);
    const referenced = await request(s).delete(`/v1/collections/${target}`).set(service).expect(409);
    expect(referenced.body).toMatchObject({ code: 'COLLECTION_REFERENCED', details: [{ path: `${source}.ref` }] });
    await request(s).delete(`/v1/collections/${source}`).set(service).expect(204);
    const notEmpty = await request(s).delete(`/v1/collections/${target}`).set(service).expect(409);
    expect(notEmpty.body.code).toBe('COLLECTION_NOT_EMPTY');
    await request(s).get(`/v1/collections/${target}/documents`).expect(200);
    await request(s).delete(`/v1/collections/${target}`).query({ force: 'true' }).set(service).expect(204);
    await request(s).get(`/v1/collections/${target}/documents`).expect(404);
    await request(s).get(`/v1/collections/${target}`).set(service).expect(404);
    const { rows } = await db.query(`SELECT to_regclass($1) AS t`, [`data."${target}"`]);
    expect(rows[0].t).toBeNull();
  });
});
