import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';

const root = resolve(import.meta.dirname, '../..');

/**
 * Builds the dashboard from the current source into a temporary directory (so the test never
 * runs against a stale dist/), with the same Vite config `npm run build` uses.
 */
export async function buildDashboard(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dashboard-'));
  await promisify(execFile)(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/dashboard/vite.config.ts', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: root, timeout: 120_000 },
  );
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Messages the page logged as errors, and uncaught exceptions. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile, no network beyond what the page asks of loopback. */
export async function launchBrowser(viewport = { width: 1280, height: 860 }): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    args: [...CHROMIUM_ARGS],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // confirm() dialogs (delete, revoke) are accepted, as an operator would.
  page.on('dialog', (d) => void d.accept());
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A screenshot for docs/dashboard.md. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(root, 'docs/dashboard', `${name}.png`), fullPage: false });
}
