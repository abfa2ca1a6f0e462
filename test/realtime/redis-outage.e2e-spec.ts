import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defineCollection, service, uniqueName } from '../collections/support.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { listeningApi, RtClient } from './support.js';

/**
 * Realtime never costs a write its success: with Redis unreachable (a TCP proxy the test
 * cuts), writes to a watched collection still answer, subscribing answers a retryable error
 * frame, and once Redis is back subscriptions work again.
 */
const redisUrl = new URL(inject('redisUrl'));
const proxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
let api: Awaited<ReturnType<typeof listeningApi>>;
let cut = false;

beforeAll(async () => {
  await proxy.start();
  const viaProxy = new URL(redisUrl);
  viaProxy.port = String(proxy.port);
  api = await listeningApi({ REDIS_URL: viaProxy.toString() });
});

afterAll(async () => {
  if (cut) await proxy.restart();
  await api?.app.close();
  await proxy.stop();
});

describe('realtime while Redis is down', () => {
  it('keeps writes working, answers SERVICE_UNAVAILABLE to subscribes, and recovers', { timeout: 60_000 }, async () => {
    const name = await defineCollection(api.app, { name: uniqueName('rt_down'), fields: [{ name: 'n', type: 'integer' }], rules: { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' } });
    const client = await RtClient.connect(api.ws);
    await client.subscribe({ collection: name, sub: 'before' });

    await proxy.stop();
    cut = true;
    const write = await request(api.app.getHttpServer()).post(`/v1/collections/${name}/documents`).set(service).send({ n: 1 });
    expect(write.status).toBe(201);
    const refused = await client.request({ type: 'subscribe', collection: name, sub: 'during' });
    expect(refused).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE', sub: 'during' });
    expect(JSON.stringify(refused)).not.toMatch(/ECONNREFUSED|Connection|redis/i);

    await proxy.restart();
    cut = false;
    // Once the connections are back, a new subscription works and receives.
    const deadline = Date.now() + 30_000;
    let answer = await client.request({ type: 'subscribe', collection: name, sub: 'after' });
    while (answer.type !== 'subscribed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      answer = await client.request({ type: 'subscribe', collection: name, sub: 'after' });
    }
    expect(answer.type).toBe('subscribed');
    const res = await request(api.app.getHttpServer()).post(`/v1/collections/${name}/documents`).set(service).send({ n: 2 });
    expect(res.status).toBe(201);
    expect(await client.next((f) => f.type === 'event' && f.sub === 'after', 20_000)).toMatchObject({ documentId: res.body.id });
    client.close();
  });
});
