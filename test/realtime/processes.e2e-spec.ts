import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SERVICE_KEY } from '../support/config.js';
import { freePort } from '../support/net.js';
import { RtClient } from './support.js';

/**
 * Two api processes as `npm run start:api` runs them (the built entry point; `npm test`
 * builds first), sharing Postgres and Redis: a subscriber of one receives the writes made
 * through the other, and a stopping process closes its connections with 1001.
 */
const API_MAIN = 'dist/apps/api/src/main.js';

async function startProcess(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [API_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: inject('queuePrefix'),
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      SERVICE_API_KEY: SERVICE_KEY,
      JWT_SECRET: 'test-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while ((await fetch(`${url}/v1/health/live`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the api process did not start (exit ${child.exitCode})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { child, url };
}

describe('realtime across two api processes', () => {
  let a: { child: ChildProcess; url: string };
  let b: { child: ChildProcess; url: string };
  beforeAll(async () => {
    if (!existsSync(API_MAIN)) throw new Error(`${API_MAIN} is missing: run \`npm run build\` first (npm test does).`);
    [a, b] = await Promise.all([startProcess(), startProcess()]);
  }, 60_000);
  afterAll(() => {
    for (const p of [a, b]) if (p?.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });

  it('delivers writes made through B to a subscriber of A, and A closes its sockets with 1001 on SIGTERM', async () => {
    const name = `rt_proc_${Math.random().toString(36).slice(2, 8)}`;
    const json = { 'content-type': 'application/json', 'x-api-key': SERVICE_KEY };
    const defined = await fetch(`${b.url}/v1/collections`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name, fields: [{ name: 'n', type: 'integer' }], rules: { list: 'public', read: 'public', create: 'public', update: 'public', delete: 'public' } }),
    });
    expect(defined.status).toBe(201);
    const client = await RtClient.connect(`${a.url.replace(/^http/, 'ws')}/v1/realtime`, { 'x-api-key': SERVICE_KEY });
    await client.next((f) => f.type === 'authed');
    await client.subscribe({ collection: name, sub: 'p', filter: { n: { $gt: 0 } } });
    const ids: string[] = [];
    for (const n of [0, 1, 2]) {
      const res = await fetch(`${b.url}/v1/collections/${name}/documents`, { method: 'POST', headers: json, body: JSON.stringify({ n }) });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    await client.next((f) => f.type === 'event' && f.documentId === ids[2]);
    expect(client.events('p').map((f) => f.documentId)).toEqual([ids[1], ids[2]]);

    a.child.kill('SIGTERM');
    expect((await client.waitClosed(20_000)).code).toBe(1001);
  }, 90_000);
});
