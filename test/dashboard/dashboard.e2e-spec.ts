import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, svc } from '../functions/support.js';
import { SERVICE_KEY } from '../support/config.js';
import { createUser, type TestUser } from '../support/users.js';
import { type Browser, buildDashboard, launchBrowser, screenshot } from './browser.js';

/**
 * The admin dashboard in real Chromium against the real api (and a worker, for function runs
 * and email delivery), each step as an operator would do it. The steps share one browser and
 * run in order. Screenshots land in docs/dashboard/ (docs/dashboard.md shows them).
 */
describe('admin dashboard in Chromium', { timeout: 120_000 }, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let admin: TestUser;
  let build: { dir: string; remove(): Promise<void> };
  let mailDir: string;
  let base: string;

  const byText = (text: string | RegExp) => page.getByText(text).first();
  // What the page shows can take a while on a loaded machine (2 cores shared by every test file).
  const eventually = <T>(read: () => T | Promise<T>, timeout = 20_000) => expect.poll(read, { timeout, interval: 100 });

  beforeAll(async () => {
    build = await buildDashboard();
    mailDir = await mkdtemp(join(tmpdir(), 'dashboard-mail-'));
    stack = await startStack({ DASHBOARD_DIR: build.dir, MAIL_DIR: mailDir });
    admin = await createUser(stack.api, { roles: ['admin'], email: `admin-${Date.now()}@example.test` });
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(15_000);
    base = `${stack.apiUrl}/admin`;
  }, 180_000);

  // A failed step leaves a screenshot of what the page showed (path in the test output).
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return;
    const path = join(tmpdir(), `dashboard-failure-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}.png`);
    await page.screenshot({ path }).catch(() => undefined);
    console.error(`dashboard test failed; screenshot: ${path}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await build?.remove();
    if (mailDir) await rm(mailDir, { recursive: true, force: true });
  });

  it('a wrong password shows a clear message, not a blank page', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toContain('Wrong email or password.');
    await screenshot(page, 'sign-in-error');
  });

  it('signs in with the admin password and shows the overview with health and activity', async () => {
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    for (const part of ['postgres', 'redis', 'storage']) {
      await eventually(() => page.getByTestId(`health-${part}`).textContent()).toContain('up');
    }
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    expect(await page.getByRole('row', { name: /functions/ }).count()).toBeGreaterThan(0);
    await page.locator('.uplot').first().waitFor();
  });

  it('an invalid schema shows the api’s messages next to the field; a valid one creates the collection', async () => {
    await page.getByRole('link', { name: 'Collections' }).click();
    await page.getByRole('button', { name: 'New collection' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('posts');
    await dialog.getByLabel('Field 1 name').fill('title');
    await dialog.getByLabel('required').first().check();
    await dialog.getByRole('button', { name: '+ Add field' }).click();
    await dialog.getByLabel('Field 2 name').fill('2views');
    await dialog.getByLabel('Field 2 type').selectOption('integer');
    await dialog.getByRole('button', { name: 'Create collection' }).click();
    const inline = dialog.getByTestId('field-1').locator('.field-error');
    await eventually(() => inline.textContent()).toMatch(/must start with a letter/);
    await eventually(() => dialog.getByRole('alert').last().textContent()).toContain('fields.1.name');
    await screenshot(page, 'collection-schema-error');

    await dialog.getByLabel('Field 2 name').fill('views');
    await dialog.getByRole('button', { name: 'Create collection' }).click();
    await page.getByRole('heading', { name: /Collection posts/ }).waitFor();
    const stored = await request(stack.api.getHttpServer()).get('/v1/collections/posts').set(svc).expect(200);
    expect(stored.body.fields.map((f: { name: string }) => f.name)).toEqual(['title', 'views']);
  });

  it('adds documents and filters them with the filter language', async () => {
    for (const doc of [
      { title: 'Hello world', views: 3 },
      { title: 'Second post', views: 10 },
    ]) {
      await page.getByRole('button', { name: 'New document' }).click();
      await page.getByRole('dialog').getByLabel(/^Data/).fill(JSON.stringify(doc));
      await page.getByRole('button', { name: 'Create document' }).click();
      await page.getByRole('dialog').waitFor({ state: 'hidden' });
      await byText(doc.title).waitFor();
    }
    await eventually(() => page.getByTestId('doc-count').textContent()).toContain('2 matching');

    await page.getByLabel('Filter (JSON)').fill('{"views": {"$gte": 5}');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => page.getByRole('alert').first().textContent()).toContain('not valid JSON');

    await page.getByLabel('Filter (JSON)').fill('{"views": {"$gte": 5}}');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => page.getByTestId('doc-count').textContent()).toContain('1 matching');
    expect(await page.locator('table.grid tbody').textContent()).toContain('Second post');
    expect(await page.locator('table.grid tbody').textContent()).not.toContain('Hello world');

    // A filter on an undeclared field: the api's message, not a blank grid.
    await page.getByLabel('Filter (JSON)').fill('{"nope": 1}');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => page.getByRole('alert').first().textContent()).toMatch(/query failed/i);
    await page.getByLabel('Filter (JSON)').fill('{"views": {"$gte": 5}}');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => page.getByTestId('doc-count').textContent()).toContain('1 matching');
    await screenshot(page, 'documents');
  });

  it('edits a document’s ACL', async () => {
    await page.locator('table.grid tbody tr').first().getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/own ACL/).check();
    await dialog.getByLabel(/^Read/).fill('role:editor');
    await dialog.getByLabel('Write', { exact: true }).fill('role:editor');
    await dialog.getByRole('button', { name: 'Save document' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const list = await request(stack.api.getHttpServer()).get('/v1/collections/posts/documents').query({ filter: '{"title":"Second post"}' }).set(svc).expect(200);
    expect(list.body.items[0].acl).toEqual({ read: ['role:editor'], write: ['role:editor'] });
  });

  it('creates a bucket, uploads files with progress and previews text and an image', async () => {
    await page.getByRole('link', { name: 'Storage' }).click();
    await page.getByLabel('Bucket name').fill('docs-files');
    await page.getByLabel('Largest file (MiB)').fill('5');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('link', { name: 'docs-files' }).click();
    await page.getByRole('heading', { name: /Bucket docs-files/ }).waitFor();

    const png = await page.screenshot({ clip: { x: 0, y: 0, width: 120, height: 80 } });
    await page.locator('input[name="upload"]').setInputFiles([
      { name: 'readme.txt', mimeType: 'text/plain', buffer: Buffer.from('Hello from the dashboard test\nsecond line\n') },
      { name: 'shot.png', mimeType: 'image/png', buffer: png },
    ]);
    await eventually(() => page.getByRole('status').textContent()).toMatch(/shot\.png.*done/);
    await page.getByRole('button', { name: 'readme.txt' }).click();
    await eventually(() => page.getByTestId('text-preview').textContent()).toContain('Hello from the dashboard test');
    await page.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('button', { name: 'shot.png' }).click();
    const img = page.getByRole('img', { name: 'Preview of shot.png' });
    await img.waitFor();
    await eventually(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'storage-preview');
    await page.getByRole('button', { name: 'Close' }).click();
    const files = await request(stack.api.getHttpServer()).get('/v1/storage/buckets/docs-files/files').set(svc).expect(200);
    expect(files.body.items.map((f: { key: string }) => f.key).sort()).toEqual(['readme.txt', 'shot.png']);
  });

  async function setSource(source: string): Promise<void> {
    const editor = page.locator('.cm-content');
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(source);
  }

  it('broken function source shows the compile error on its line', async () => {
    await page.getByRole('link', { name: 'Functions' }).click();
    await page.getByLabel('New function name').fill('hello');
    await page.getByRole('button', { name: 'Create / open' }).click();
    await page.locator('.cm-content').waitFor();
    await setSource("export default async (event, ctx) => {\n  ctx.log('hi');\n  return event.payload +;\n};\n");
    await page.getByRole('button', { name: 'Deploy' }).click();
    await eventually(() => page.getByTestId('compile-error').textContent()).toMatch(/line 3/);
    // The editor marks the line itself (CodeMirror lint range and gutter marker).
    await page.locator('.cm-lintRange-error').first().waitFor();
    await screenshot(page, 'function-compile-error');
    await request(stack.api.getHttpServer()).get('/v1/functions/hello').set(svc).expect(404);
  });

  it('deploys, invokes with a JSON payload and shows the run’s log', async () => {
    await setSource("export default async (event, ctx) => {\n  ctx.log('hello from', event.payload.name);\n  return { greeting: 'Hi ' + event.payload.name };\n};\n");
    await page.getByRole('button', { name: 'Deploy' }).click();
    await eventually(() => page.getByRole('status').first().textContent()).toContain('Deployed version 1');
    await page.getByRole('tab', { name: 'Invoke' }).click();
    await page.getByLabel(/^Payload/).fill('{"name": "Ada"}');
    await page.getByRole('button', { name: 'Invoke' }).click();
    const result = page.getByTestId('invoke-result');
    await eventually(() => result.textContent(), 30_000).toContain('Hi Ada');
    await eventually(() => page.getByTestId('run-logs').textContent()).toContain('hello from Ada');
    await screenshot(page, 'function-invoke');

    await page.getByRole('tab', { name: 'Runs' }).click();
    await eventually(() => page.locator('table tbody').first().textContent()).toContain('succeeded');

    // Usage: the metering of today's attempts, and the total.
    await page.getByRole('tab', { name: 'Usage' }).click();
    const usage = page.getByTestId('function-usage');
    await eventually(() => usage.locator('tbody tr').first().textContent()).toContain(new Date().toISOString().slice(0, 10));
    await eventually(() => usage.locator('tbody tr').last().textContent()).toMatch(/^total[1-9]/);
    await screenshot(page, 'function-usage');
  });

  it('shows an email of the delivery log and previews a template live', async () => {
    const sent = await request(stack.api.getHttpServer())
      .post('/v1/email/send')
      .set(svc)
      .send({ to: 'reader@example.test', subject: 'Dashboard hello', text: 'Plain body', html: '<p>An <b>HTML</b> body</p>' })
      .expect(202);
    await page.getByRole('link', { name: 'Email' }).click();
    await page.getByRole('button', { name: 'Dashboard hello' }).click();
    const detail = page.getByTestId('email-detail');
    await eventually(() => detail.textContent()).toContain('reader@example.test');
    await eventually(() => detail.textContent()).toContain('Plain body');
    const frame = page.frameLocator('iframe.mail-frame');
    await eventually(() => frame.locator('b').textContent()).toBe('HTML');
    // The worker delivers it (to .eml files here); the open dialog follows the status.
    await eventually(async () => {
      const res = await request(stack.api.getHttpServer()).get(`/v1/email/messages/${sent.body.id}`).set(svc);
      return (res.body as { status: string }).status;
    }).toBe('sent');
    await page.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('tab', { name: 'Templates' }).click();
    await page.getByLabel('New template').fill('welcome');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.getByLabel('Subject').fill('Welcome {{name}}!');
    await eventually(() => page.getByTestId('template-preview').textContent()).toContain('Welcome Ada!');
    await page.getByRole('button', { name: 'Save template' }).click();
    await eventually(() => page.getByRole('status').first().textContent()).toContain('Saved');
    await screenshot(page, 'email-template');
  });

  it('finds a user, changes roles, disables them and ends their sessions', async () => {
    const someone = await createUser(stack.api, { email: `someone-${Date.now()}@example.test` });
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Search by email').fill('someone-');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: someone.email }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Roles/).fill('editor, beta');
    await dialog.getByRole('button', { name: 'Save roles' }).click();
    await eventually(() => dialog.getByRole('status').textContent()).toContain('Saved');
    await dialog.getByRole('button', { name: 'End all sessions' }).click();
    await eventually(() => dialog.getByRole('status').textContent()).toContain('1 session(s) ended');
    await request(stack.api.getHttpServer()).post('/v1/auth/refresh').send({ refreshToken: someone.refreshToken }).expect(401);
    await dialog.getByRole('button', { name: 'Disable' }).click();
    await eventually(() => dialog.textContent()).toContain('disabled');
    const user = await request(stack.api.getHttpServer()).get(`/v1/admin/users/${someone.id}`).set(svc).expect(200);
    expect(user.body).toMatchObject({ roles: ['editor', 'beta'], disabled: true });
    await screenshot(page, 'users');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('creates an API key shown once, and revokes it', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('ci server');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-key').textContent())!.trim();
    expect(key).toMatch(/^sk_/);
    await request(stack.api.getHttpServer()).get('/v1/admin/api-keys').set('x-api-key', key).expect(200);
    await screenshot(page, 'api-keys');
    await page.getByRole('row', { name: /ci server/ }).getByRole('button', { name: 'Revoke' }).click();
    await eventually(() => page.getByRole('row', { name: /ci server/ }).textContent()).toContain('revoked');
    await request(stack.api.getHttpServer()).get('/v1/admin/api-keys').set('x-api-key', key).expect(401);
  });

  it('works at phone width: the menu opens and deep links load', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/collections/posts`);
    await page.getByRole('heading', { name: /Collection posts/ }).waitFor();
    expect(await page.locator('#nav').isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Storage' }).waitFor();
    await screenshot(page, 'phone-menu');
    await page.getByRole('link', { name: 'Storage' }).click();
    await page.getByRole('heading', { name: 'Storage' }).waitFor();
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('an unknown page says so; signs out, refuses a bad service key, signs in with the service key', async () => {
    await page.goto(`${base}/no/such/page`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'selfbaas admin' }).waitFor();
    await page.getByRole('tab', { name: 'Service key' }).click();
    await page.getByLabel('Service key').fill('sk_not-a-real-key-0000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toContain('not valid');
    await page.getByLabel('Service key').fill(SERVICE_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByText('service key').first().isVisible()).toBe(true);
    // By now the overview has something to show (a run, a collection, files, users).
    await eventually(() => page.getByRole('heading', { name: 'Recent errors' }).count()).toBe(1);
    await page.locator('.uplot').first().waitFor();
    await screenshot(page, 'overview');
  });

  it('raised no uncaught error in the page', () => {
    expect(browser.pageErrors).toEqual([]);
  });
});
