import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaService } from '#libs/database';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { createUser, type TestUser } from '../support/users.js';
import { type Browser, buildDashboard, launchBrowser, screenshot } from './browser.js';

/** The dashboard's auth administration in Chromium: sign-in providers, scoped and expiring keys. */
describe('dashboard: sign-in providers and scoped API keys', { timeout: 120_000 }, () => {
  let app: NestFastifyApplication;
  let browser: Browser;
  let page: Page;
  let admin: TestUser;
  let build: { dir: string; remove(): Promise<void> };
  let base: string;
  const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 100 });

  beforeAll(async () => {
    build = await buildDashboard();
    app = await startApi(testConfig({ DASHBOARD_DIR: build.dir }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/admin`;
    admin = await createUser(app, { roles: ['admin'] });
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(20_000);
    await page.goto(`${base}/`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await build?.remove();
  });

  it('adds a provider (the secret stored encrypted, shown as "stored"), and deletes it', async () => {
    await page.getByRole('link', { name: 'Sign-in providers' }).click();
    await page.getByRole('heading', { name: 'Sign-in providers' }).waitFor();
    await page.getByLabel('Id', { exact: true }).fill('keycloak');
    await page.getByLabel('Issuer URL').fill('https://sso.example.test/realms/main');
    await page.getByLabel('Client id', { exact: true }).fill('dash-client');
    await page.getByLabel('Client secret').fill('dash-secret-value');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await eventually(() => page.getByRole('row', { name: /keycloak/ }).textContent()).toContain('stored');
    const row = await app.get(PrismaService).authProvider.findUniqueOrThrow({ where: { id: 'keycloak' } });
    expect(row.clientSecret).not.toContain('dash-secret-value');
    expect(await page.content()).not.toContain('dash-secret-value');
    await screenshot(page, 'sign-in-providers');
    // An oidc provider without an issuer: the api's message, not a blank page.
    await page.getByLabel('Id', { exact: true }).fill('broken');
    await page.getByLabel('Issuer URL').fill('');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await eventually(() => page.getByRole('alert').first().textContent()).toContain('issuer');
    await page.getByRole('row', { name: /keycloak/ }).getByRole('button', { name: 'Delete' }).click();
    await eventually(() => page.getByRole('row', { name: /keycloak/ }).count()).toBe(0);
  });

  it('creates a read-only collections key with an expiry; the list shows both', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('reporting');
    await page.getByLabel('collections').check();
    await page.getByLabel('read-only').check();
    await page.getByLabel('Expires').fill('2099-01-01T12:00');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('new-key').waitFor();
    const row = page.getByRole('row', { name: /reporting/ });
    await eventually(() => row.textContent()).toContain('collections, read-only');
    expect(await row.textContent()).toContain('2099');
    expect(browser.pageErrors).toEqual([]);
  });
});
