import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCollection, service, uniqueName } from '../collections/support.js';
import { SERVICE_KEY } from '../support/config.js';
import { listeningApi, RtClient } from './support.js';

describe('smoke', () => {
  let a: Awaited<ReturnType<typeof listeningApi>>;
  let b: Awaited<ReturnType<typeof listeningApi>>;
  beforeAll(async () => {
    a = await listeningApi();
    b = await listeningApi();
  });
  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
  });
  it('works', async () => {
    const name = await defineCollection(a.app, { name: uniqueName('rt'), fields: [{ name: 'score', type: 'number' }], rules: { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' } });
    const c = await RtClient.connect(a.ws, { 'x-api-key': SERVICE_KEY });
    await c.next((f) => f.type === 'authed');
    const s = await c.subscribe({ collection: name, filter: { score: { $gte: 3 } } });
    const res = await request(b.app.getHttpServer()).post(`/v1/collections/${name}/documents`).set(service).send({ score: 5 }).expect(201);
    const ev = await c.next((f) => f.type === 'event');
    expect(ev).toMatchObject({ event: 'create', sub: s.sub, documentId: res.body.id, document: { score: 5 } });
    c.close();
  });
});
