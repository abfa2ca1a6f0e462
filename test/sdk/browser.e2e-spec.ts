import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../../apps/worker/src/worker.factory.js';
import { isolatedDatabase } from '../functions/support.js';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { freePort } from '../support/net.js';
import { ensureSdkBuilt, PASSWORD, sdkClients, uniqueEmail } from './support.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';


/** What test/sdk/browser/page.html puts on the page's global object. */
interface PageGlobals {
  document: { getElementById(id: string): { textContent: string | null } | null };
  runJourney(args: unknown): Promise<unknown>;
  runRealtime(args: unknown): Promise<unknown>;
}

/** Serves the test page and the built SDK from an origin of its own (another loopback port). */
async function servePage(sdkDir: string): Promise<{ server: Server; origin: string }> {
  const page = await readFile(join(import.meta.dirname, 'browser', 'page.html'));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    void (async () => {
      if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      const file = normalize(join(sdkDir, path.replace(/^\/sdk\//, '')));
      if (!path.startsWith('/sdk/') || !file.startsWith(sdkDir) || !existsSync(file)) return res.writeHead(404).end();
      const type = extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream';
      res.writeHead(200, { 'content-type': type }).end(await readFile(file));
    })();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  return { server, origin: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
}

describe('the built SDK in real Chromium, from another origin', () => {
  let api: NestFastifyApplication;
  let worker: INestApplicationContext;
  let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
  let dir: string;
  let page: { server: Server; origin: string };
  let browser: BrowserContext;
  let apiUrl: string;
  const suffix = Math.random().toString(36).slice(2, 8);
  const names = { collection: `browser_posts_${suffix}`, bucket: `browser-${suffix}`, fn: `browser-greet-${suffix}` };

  beforeAll(async () => {
    // .ci/run installs Debian's chromium when it is missing (apt-get install -y chromium).
    expect(existsSync(CHROMIUM_PATH), `${CHROMIUM_PATH} is missing: apt-get install -y chromium`).toBe(true);
    const sdkDir = dirname(await ensureSdkBuilt());
    dir = await mkdtemp(join(tmpdir(), 'baas-browser-'));
    isolated = await isolatedDatabase();
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const config = {
      DATABASE_URL: isolated.databaseUrl,
      QUEUE_PREFIX: isolated.queuePrefix,
      PUBLIC_URL: apiUrl,
      STORAGE_DRIVER: 'local',
      STORAGE_LOCAL_DIR: join(dir, 'storage'),
      SANDBOX_HOSTS: '1',
      CORS_ORIGINS: '*',
    };
    api = await startApi(testConfig(config));
    await api.listen({ port, host: '127.0.0.1' });
    worker = await createWorker(testConfig({ ...config, API_INTERNAL_URL: apiUrl }));

    const admin = sdkClients(apiUrl).service.admin;
    const open = { list: 'public', read: 'public', create: 'authenticated', update: 'owner', delete: 'owner' };
    await admin.collections.create({ name: names.collection, fields: [{ name: 'title', type: 'string', required: true }], rules: open });
    await sdkClients(apiUrl).service.collection(names.collection).create({ title: 'Seeded' });
    await admin.buckets.create({ name: names.bucket });
    await admin.functions.deploy(names.fn, { source: 'export default async (event) => ({ hi: event.payload.name, user: event.user?.email });' });

    page = await servePage(sdkDir);
    browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => page?.server.close(done));
    await worker?.close();
    await api?.close();
    await isolated?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('signs in, lists, uploads with progress and calls a function through CORS', { timeout: 90_000 }, async () => {
    const tab = await browser.newPage();
    const outside: string[] = [];
    // Only the two loopback origins: anything else would be a request off this machine.
    tab.on('request', (r) => {
      const origin = new URL(r.url()).origin;
      if (origin !== page.origin && origin !== apiUrl) outside.push(r.url());
    });
    const consoleErrors: string[] = [];
    tab.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await tab.goto(page.origin);
    // These functions run in the page (Node's type library here has no DOM).
    await tab.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('status')?.textContent === 'ready');
    expect(new URL(tab.url()).origin).not.toBe(apiUrl); // a cross-origin page

    const email = uniqueEmail('browser');
    const result = await tab.evaluate(
      (args) => (globalThis as unknown as PageGlobals).runJourney(args),
      { apiUrl, email, password: PASSWORD, ...names },
    );
    expect(result).toMatchObject({
      events: ['signed_in'],
      me: email,
      titles: ['From the browser', 'Seeded'],
      file: { size: 3 * 1024 * 1024, status: 'ready' },
      roundTrip: true,
      invocation: { status: 'succeeded', result: { hi: 'browser', user: email } },
      error: { isBaasError: true, statusCode: 404, code: 'DOCUMENT_NOT_FOUND', requestId: expect.any(String) },
      storedUser: email,
    });
    const progress = (result as { progress: { count: number; last: { loaded: number; total: number } } }).progress;
    expect(progress.count).toBeGreaterThan(0);
    expect(progress.last).toEqual({ loaded: 3 * 1024 * 1024, total: 3 * 1024 * 1024 });
    expect(outside).toEqual([]);
    // The expected 404 is logged by Chromium as a failed resource; nothing else went wrong.
    expect(consoleErrors.filter((e) => !e.includes('404'))).toEqual([]);
  });

  it('receives live events in the page, through the SDK and through a bare WebSocket', { timeout: 90_000 }, async () => {
    const tab = await browser.newPage();
    await tab.goto(page.origin);
    await tab.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('status')?.textContent === 'ready');
    const result = await tab.evaluate(
      (args) => (globalThis as unknown as PageGlobals).runRealtime(args),
      { apiUrl, email: uniqueEmail('browser-rt'), password: PASSWORD, collection: names.collection },
    );
    expect(result).toEqual({
      events: [
        { event: 'create', title: 'Live one' },
        { event: 'update', title: 'Live two' },
        { event: 'leave', title: null },
      ],
      raw: { frames: ['welcome', 'authed', 'subscribed', 'event'], event: 'create', title: 'Raw socket', id: expect.stringMatching(/^\d+-\d+$/) },
    });
  });
});

