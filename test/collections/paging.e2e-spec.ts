import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { defineCollection, directPool, uniqueName } from './support.js';

const PUBLIC = { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' };

interface Page {
  items: { id: string; n?: number; rank?: number; label?: string }[];
  nextCursor: string | null;
}

describe('cursor paging', () => {
  let app: NestFastifyApplication;
  let db: pg.Pool;

  beforeAll(async () => {
    app = await startApi();
    db = directPool();
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  /** Follows nextCursor to the end; `between` runs after each page (to write meanwhile). */
  async function pageThrough(path: string, query: Record<string, string | number>, between?: (page: number) => Promise<void>) {
    const seen: Page['items'] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await request(app.getHttpServer())
        .get(path)
        .query({ ...query, ...(cursor ? { cursor } : {}) })
        .expect(200);
      const body = res.body as Page;
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages++;
      if (between) await between(pages);
      if (pages > 1000) throw new Error('paging does not end');
    } while (cursor);
    return { seen, pages };
  }

  it('returns each of 10,000 documents exactly once while documents are inserted between pages', async () => {
    const name = await defineCollection(app, {
      name: uniqueName('page10k'),
      fields: [{ name: 'n', type: 'integer' }],
      indexes: [['n']],
      rules: PUBLIC,
    });
    // Many equal values of n (and equal createdAt within the statement): the id tie-breaker matters.
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO data."${name}" (id, data, created_at, updated_at)
       SELECT gen_random_uuid(), jsonb_build_object('n', g % 250), now(), now() FROM generate_series(1, 10000) g
       RETURNING id`,
    );
    const original = new Set(rows.map((r) => r.id));
    expect(original.size).toBe(10_000);
    const path = `/v1/collections/${name}/documents`;
    const inserted = new Set<string>();
    const insertSome = async (page: number) => {
      // Values that sort before, at and after the current position.
      for (const n of [0, page % 250, 249, -1]) {
        const res = await request(app.getHttpServer()).post(path).send({ n }).expect(201);
        inserted.add(res.body.id);
      }
    };

    for (const sort of ['n', '-n', undefined]) {
      const { seen, pages } = await pageThrough(path, { limit: 500, fields: 'n', ...(sort ? { sort } : {}) }, insertSome);
      const ids = seen.map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length); // nothing twice
      const originalSeen = ids.filter((id) => original.has(id));
      expect(originalSeen.length).toBe(10_000); // every original document, once
      expect(ids.every((id) => original.has(id) || inserted.has(id))).toBe(true);
      expect(pages).toBeGreaterThanOrEqual(20);
      // The pages join up in order.
      const ns = seen.map((d) => d.n!);
      if (sort === 'n') expect(ns).toEqual([...ns].sort((a, b) => a - b));
      if (sort === '-n') expect(ns).toEqual([...ns].sort((a, b) => b - a));
    }
  });

  it('pages through several sort keys with missing values, ascending and descending, like one big page', async () => {
    const name = await defineCollection(app, {
      name: uniqueName('pagemix'),
      fields: [
        { name: 'rank', type: 'number' },
        { name: 'label', type: 'string' },
      ],
      rules: PUBLIC,
    });
    await db.query(
      `INSERT INTO data."${name}" (id, data)
       SELECT gen_random_uuid(),
              jsonb_strip_nulls(jsonb_build_object('rank', CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 5) * 1.5 END,
                                                   'label', CASE WHEN g % 11 = 0 THEN NULL ELSE 'l' || (g % 3) END))
       FROM generate_series(1, 450) g`,
    );
    const path = `/v1/collections/${name}/documents`;
    for (const sort of ['-rank,label', 'rank,-label', 'label,-createdAt', '-updatedAt', 'ownerId,rank']) {
      const whole = (await request(app.getHttpServer()).get(path).query({ sort, limit: 500 }).expect(200)).body as Page;
      expect(whole.items).toHaveLength(450);
      expect(whole.nextCursor).toBeNull();
      const { seen } = await pageThrough(path, { sort, limit: 37 });
      expect({ sort, ids: seen.map((d) => d.id) }).toEqual({ sort, ids: whole.items.map((d) => d.id) });
    }
    const firstRanks = ((await request(app.getHttpServer()).get(path).query({ sort: '-rank', limit: 100 }).expect(200)).body as Page).items;
    expect(firstRanks[0]!.rank).toBeUndefined(); // missing values first when descending
    const ascRanks = ((await request(app.getHttpServer()).get(path).query({ sort: 'rank', limit: 500 }).expect(200)).body as Page).items;
    expect(ascRanks.at(-1)!.rank).toBeUndefined(); // and last when ascending
  });

  it('a cursor only continues the sort it came from; a forged one is 400', async () => {
    const name = await defineCollection(app, { name: uniqueName('pagecur'), fields: [{ name: 'n', type: 'integer' }], rules: PUBLIC });
    for (let n = 0; n < 3; n++) await request(app.getHttpServer()).post(`/v1/collections/${name}/documents`).send({ n }).expect(201);
    const path = `/v1/collections/${name}/documents`;
    const first = (await request(app.getHttpServer()).get(path).query({ sort: 'n', limit: 1 }).expect(200)).body as Page;
    expect(first.nextCursor).toEqual(expect.any(String));
    const other = await request(app.getHttpServer()).get(path).query({ sort: '-n', limit: 1, cursor: first.nextCursor! }).expect(400);
    expect(other.body.code).toBe('INVALID_CURSOR');
    for (const cursor of ['not-base64!', Buffer.from('{"s":"n,id","v":[1]}').toString('base64url'), Buffer.from('{"s":"n,id","v":["1","not-a-uuid"]}').toString('base64url')]) {
      const res = await request(app.getHttpServer()).get(path).query({ sort: 'n', cursor });
      expect({ cursor, status: res.status, code: res.body.code }).toEqual({ cursor, status: 400, code: 'INVALID_CURSOR' });
    }
    const next = (await request(app.getHttpServer()).get(path).query({ sort: 'n', limit: 1, cursor: first.nextCursor! }).expect(200)).body as Page;
    expect(next.items[0]!.n).toBe(1);
  });
});
