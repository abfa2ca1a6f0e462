import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectionsService } from '../../apps/api/src/collections/collections.service.js';
import { indexSpecs } from '../../apps/api/src/collections/ddl.js';
import { buildListQuery } from '../../apps/api/src/collections/documents/documents.repository.js';
import { parseSort } from '../../apps/api/src/collections/documents/paging.js';
import { searchSql } from '../../apps/api/src/collections/sql.js';
import { Params } from '../../apps/api/src/collections/sql.js';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { defineCollection, directPool, service, uniqueName } from './support.js';

const PUBLIC = { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' };

/** Case- and accent-insensitive operators, full-text search, the read timeout and index advice (docs/data.md). */
describe('search and text matching', () => {
  let app: NestFastifyApplication;
  let db: pg.Pool;
  let recipes: string;
  const s = () => app.getHttpServer();
  const list = (query: Record<string, unknown>) =>
    request(s())
      .get(`/v1/collections/${recipes}/documents`)
      .query({ limit: 100, ...query, ...(query.filter ? { filter: JSON.stringify(query.filter) } : {}) });
  const titles = (res: request.Response) => (res.body.items as { title: string }[]).map((d) => d.title).sort();

  beforeAll(async () => {
    app = await startApi();
    db = directPool();
    recipes = await defineCollection(app, {
      name: uniqueName('recipes'),
      fields: [
        { name: 'title', type: 'string' },
        { name: 'body', type: 'string' },
        { name: 'kind', type: 'string' },
      ],
      indexes: [['kind'], { fields: ['title', 'body'], search: true, language: 'english' }],
      rules: PUBLIC,
    });
    const docs = [
      { title: 'Crème Brûlée', body: 'A custard with burnt sugar', kind: 'dessert' },
      { title: 'creme fraiche', body: 'Cultured cream', kind: 'dairy' },
      { title: 'CRÈME anglaise', body: 'Pouring custard, custard everywhere', kind: 'dessert' },
      { title: 'Apple pie', body: 'Apples baked in pastry', kind: 'dessert' },
      { title: 'Straße salad', body: 'Greens', kind: 'salad' },
    ];
    for (const doc of docs) await request(s()).post(`/v1/collections/${recipes}/documents`).send(doc).expect(201);
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  it('$ieq, $icontains and $istartsWith ignore case and accents; $contains does not', async () => {
    expect(titles(await list({ filter: { title: { $icontains: 'creme' } } }).expect(200))).toEqual(['CRÈME anglaise', 'Crème Brûlée', 'creme fraiche']);
    expect(titles(await list({ filter: { title: { $icontains: 'BRULEE' } } }).expect(200))).toEqual(['Crème Brûlée']);
    expect(titles(await list({ filter: { title: { $ieq: 'apple PIE' } } }).expect(200))).toEqual(['Apple pie']);
    expect(titles(await list({ filter: { title: { $istartsWith: 'cRè' } } }).expect(200))).toEqual(['CRÈME anglaise', 'Crème Brûlée', 'creme fraiche']);
    expect(titles(await list({ filter: { title: { $icontains: 'strasse' } } }).expect(200))).toEqual(['Straße salad']);
    expect(titles(await list({ filter: { title: { $contains: 'creme' } } }).expect(200))).toEqual(['creme fraiche']);
    const count = await list({ filter: { $or: [{ title: { $ieq: 'creme FRAICHE' } }, { kind: { $ieq: 'SALAD' } }] }, count: 'true' }).expect(200);
    expect(count.body.count).toBe(2);
  });

  it('rejects case-insensitive operators on other types, and bad operands', async () => {
    for (const filter of [{ kind: { $icontains: 3 } }, { createdAt: { $ieq: '2026-01-01' } }, { title: { $iregex: 'x' } }]) {
      const res = await list({ filter }).expect(400);
      expect(res.body.code).toBe('INVALID_FILTER');
    }
  });

  it('$search finds words in the declared fields, stemmed and folded, ranked by relevance', async () => {
    // "custards" stems to "custard"; the document that says it three times ranks first.
    const ranked = await list({ filter: { $search: 'custards' } }).expect(200);
    expect((ranked.body.items as { title: string }[]).map((d) => d.title)).toEqual(['CRÈME anglaise', 'Crème Brûlée']);
    expect(titles(await list({ filter: { $search: 'creme' } }).expect(200))).toEqual(['CRÈME anglaise', 'Crème Brûlée', 'creme fraiche']);
    expect(titles(await list({ filter: { $search: 'crème -custard' } }).expect(200))).toEqual(['creme fraiche']);
    expect(titles(await list({ filter: { $search: '"burnt sugar"' } }).expect(200))).toEqual(['Crème Brûlée']);
    // Combined with other conditions, counted, and in an explicit order.
    const both = await list({ filter: { $search: 'creme', kind: 'dessert' }, count: 'true', sort: 'title' }).expect(200);
    expect(both.body).toMatchObject({ count: 2 });
    expect((both.body.items as { title: string }[]).map((d) => d.title)).toEqual(['CRÈME anglaise', 'Crème Brûlée']);
  });

  it('pages through ranked results exactly once each', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ filter: { $search: 'creme' }, limit: 1, sort: '-$rank', ...(cursor ? { cursor } : {}) }).expect(200);
      seen.push(...(page.body.items as { title: string }[]).map((d) => d.title));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(['CRÈME anglaise', 'Crème Brûlée', 'creme fraiche']);
  });

  it('explains what it cannot do', async () => {
    expect((await list({ sort: '$rank' }).expect(400)).body.code).toBe('INVALID_SORT');
    expect((await list({ filter: { $search: '' } }).expect(400)).body.code).toBe('INVALID_FILTER');
    const plain = await defineCollection(app, { name: uniqueName('plain'), fields: [{ name: 'title', type: 'string' }], rules: PUBLIC });
    const res = await request(s()).get(`/v1/collections/${plain}/documents`).query({ filter: JSON.stringify({ $search: 'x' }) }).expect(400);
    expect(res.body).toMatchObject({ code: 'INVALID_FILTER' });
    expect(res.body.message).toContain('search index');
    // Validation of search indexes.
    for (const indexes of [
      [{ fields: ['n'], search: true }],
      [{ fields: ['title'], search: true, unique: true }],
      [{ fields: ['title'], search: true }, { fields: ['title'], search: true }],
      [{ fields: ['title'], search: true, language: 'klingon' }],
    ]) {
      const bad = await request(s())
        .post('/v1/collections')
        .set(service)
        .send({ name: uniqueName('badsearch'), fields: [{ name: 'title', type: 'string' }, { name: 'n', type: 'integer' }], indexes, rules: PUBLIC });
      expect(bad.status).toBe(400);
      expect((bad.body.details as { path: string }[])[0]!.path).toMatch(/^indexes\.\d/);
    }
  });

  it('the search index serves $search', async () => {
    await db.query(
      `INSERT INTO data."${recipes}" (id, data) SELECT gen_random_uuid(), jsonb_build_object('title', 'filler ' || g, 'body', 'nothing', 'kind', 'x') FROM generate_series(1, 2000) g`,
    );
    await db.query(`ANALYZE data."${recipes}"`);
    const def = (await app.get(CollectionsService).definition(recipes))!;
    const searchIndex = indexSpecs(def).find((spec) => spec.create.includes('to_tsvector'))!;
    const rank = searchSql(def, 'custard', new Params())!.rank;
    const query = buildListQuery(def, { kind: 'anonymous' }, { filter: { $search: 'custard' }, sort: parseSort(def, '-$rank', 'd', rank), limit: 20, rankedSearch: 'custard' })!;
    const client = await db.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.text}`, query.values);
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain(searchIndex.name);
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });

  it('advises an index when a filter or sort cannot use one', async () => {
    const indexed = await list({ filter: { kind: 'dessert' }, sort: 'createdAt' }).expect(200);
    expect(indexed.headers['x-index-advice']).toBeUndefined();
    const unindexed = await list({ filter: { title: 'Apple pie' }, sort: 'body' }).expect(200);
    expect(unindexed.headers['x-index-advice']).toContain('"title" is filtered on but no index starts with it');
    expect(unindexed.headers['x-index-advice']).toContain('the sort by "body" has no index');
    const scan = await list({ filter: { body: { $icontains: 'cream' } } }).expect(200);
    expect(scan.headers['x-index-advice']).toContain('search index');
  });
});

describe('the read timeout', () => {
  let app: NestFastifyApplication;
  let db: pg.Pool;

  beforeAll(async () => {
    // 1 ms: any scan of the large collection below runs far longer, whatever the machine's load.
    app = await startApi(testConfig({ DATA_QUERY_TIMEOUT_MS: '1' }));
    db = directPool();
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  it('stops a slow unindexed list with 503 QUERY_TIMEOUT and index advice; writes are not limited', async () => {
    const big = await defineCollection(app, { name: uniqueName('big'), fields: [{ name: 'title', type: 'string' }], rules: PUBLIC });
    await db.query(`INSERT INTO data."${big}" (id, data) SELECT gen_random_uuid(), jsonb_build_object('title', 'Crème ' || g) FROM generate_series(1, 100000) g`);
    const res = await request(app.getHttpServer())
      .get(`/v1/collections/${big}/documents`)
      .query({ filter: JSON.stringify({ title: { $icontains: 'zzz' } }), count: 'true' })
      .expect(503);
    expect(res.body).toMatchObject({ code: 'QUERY_TIMEOUT' });
    expect(JSON.stringify(res.body.details)).toContain('search index');
    expect(JSON.stringify(res.body)).not.toMatch(/statement|canceling|SELECT/i);
    await request(app.getHttpServer()).post(`/v1/collections/${big}/documents`).send({ title: 'still writable' }).expect(201);
  });
});
