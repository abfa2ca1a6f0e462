import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CollectionsService } from '../../apps/api/src/collections/collections.service.js';
import { matchesFilter } from '../../apps/api/src/collections/documents/filter-match.js';
import type { DocRow } from '../../apps/api/src/collections/documents/documents.repository.js';
import { defineCollection, directPool, service, uniqueName } from '../collections/support.js';
import { startApi } from '../support/app.js';

/**
 * Realtime matches changes against filters in memory (filter-match.ts); lists run the SQL
 * of compileFilter. Both must agree: every filter here is run both ways over the same rows.
 */
let app: NestFastifyApplication;
let name: string;
let rows: DocRow[];

const docs: Record<string, unknown>[] = [
  { title: 'Alpha', score: 5, count: 2, done: true, due: '2026-01-10', tags: ['a', 'b'], meta: { level: 3, kind: 'x', deep: { ok: true } } },
  { title: 'beta', score: 1.5, count: 0, done: false, due: '2025-12-31', tags: ['b'], meta: { level: 'high', kind: null } },
  { title: 'Gamma ray', score: -3, done: true, tags: [], meta: { other: 1 } },
  { title: 'alphabet', count: 7, meta: null },
  { score: 10, count: 10, due: '2026-06-01T10:00:00Z', tags: ['c', 'a'] },
  {},
];

const filters: Record<string, unknown>[] = [
  {},
  { title: 'Alpha' },
  { title: { $ne: 'Alpha' } },
  { title: null },
  { title: { $ne: null } },
  { title: { $gt: 'Gamma' } },
  { title: { $lte: 'alpha' } },
  { title: { $in: ['beta', 'alphabet'] } },
  { title: { $nin: ['beta'] } },
  { title: { $contains: 'ph' } },
  { title: { $startsWith: 'al' } },
  { title: { $exists: true } },
  { title: { $exists: false } },
  { score: { $gte: 1.5 } },
  { score: { $lt: 0 } },
  { score: { $gt: 1, $lt: 6 } },
  { score: 10 },
  { score: { $in: [1.5, 10] } },
  { score: { $nin: [5] } },
  { count: { $ne: 0 } },
  { done: true },
  { done: { $ne: true } },
  { due: { $gte: '2026-01-01' } },
  { due: { $lt: '2026-06-01T10:00:01Z' } },
  { tags: { $contains: 'a' } },
  { tags: ['b'] },
  { tags: { $ne: ['b'] } },
  { tags: { $exists: false } },
  { meta: { $contains: { kind: 'x' } } },
  { meta: null },
  { 'meta.level': 3 },
  { 'meta.level': { $gte: 2 } },
  { 'meta.level': { $gt: 'a' } },
  { 'meta.kind': null },
  { 'meta.kind': { $ne: null } },
  { 'meta.kind': { $in: ['x', 'y'] } },
  { 'meta.kind': { $nin: ['x'] } },
  { 'meta.deep.ok': true },
  { 'meta.other': { $exists: true } },
  { 'meta.kind': { $startsWith: 'x' } },
  { $or: [{ score: { $gt: 4 } }, { done: false }] },
  { $and: [{ tags: { $contains: 'b' } }, { title: { $contains: 'a' } }] },
  { $not: { score: { $gt: 0 } } },
  { $not: { title: { $startsWith: 'A' } } },
  { $or: [{ $not: { count: { $gte: 2 } } }, { 'meta.level': 'high' }] },
  { createdAt: { $gte: '2000-01-01T00:00:00Z' } },
  { ownerId: null },
  { updatedAt: { $lt: '2000-01-01' } },
];

beforeAll(async () => {
  app = await startApi();
  name = await defineCollection(app, {
    name: uniqueName('fm'),
    fields: [
      { name: 'title', type: 'string' },
      { name: 'score', type: 'number' },
      { name: 'count', type: 'integer' },
      { name: 'done', type: 'boolean' },
      { name: 'due', type: 'date' },
      { name: 'tags', type: 'array' },
      { name: 'meta', type: 'json' },
    ],
    rules: { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' },
  });
  for (const doc of docs) await request(app.getHttpServer()).post(`/v1/collections/${name}/documents`).set(service).send(doc).expect(201);
  const pool = directPool();
  rows = (await pool.query<DocRow>(`SELECT id, data, owner_id, acl, version, created_at, updated_at FROM data."${name}"`)).rows;
  await pool.end();
});

afterAll(async () => {
  await app?.close();
});

describe('matchesFilter', () => {
  it('selects the same documents as the SQL of list queries, for every operator and field kind', async () => {
    const def = (await app.get(CollectionsService).definition(name))!;
    expect(rows).toHaveLength(docs.length);
    for (const filter of filters) {
      const res = await request(app.getHttpServer())
        .get(`/v1/collections/${name}/documents`)
        .query({ filter: JSON.stringify(filter), limit: 100 })
        .set(service);
      expect(res.status, JSON.stringify(filter)).toBe(200);
      const viaSql = (res.body.items as { id: string }[]).map((d) => d.id).sort();
      const inMemory = rows.filter((row) => matchesFilter(def, filter, row)).map((r) => r.id).sort();
      expect(inMemory, JSON.stringify(filter)).toEqual(viaSql);
    }
  });
});
