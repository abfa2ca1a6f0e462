import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { bearer, createUser } from '../support/users.js';

const svc = { 'x-api-key': SERVICE_KEY };
const INDEX = '<!doctype html><title>dashboard</title><script type="module" src="/admin/assets/index-abc123.js"></script>';

/** The api serving the dashboard's build at /admin, and the admin routes the dashboard added. */
describe('dashboard serving and its admin routes', () => {
  let app: NestFastifyApplication;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dashboard-static-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log("app")');
    await writeFile(join(dir, 'robots.txt'), 'User-agent: *\nDisallow: /\n');
    await writeFile(join(dir, '..', 'outside-dashboard.txt'), 'secret').catch(() => undefined);
    app = await startApi(testConfig({ DASHBOARD_DIR: dir }));
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
    await rm(join(dir, '..', 'outside-dashboard.txt'), { force: true });
  });

  const http = () => request(app.getHttpServer());

  it('/admin redirects to /admin/, which is index.html and never cached', async () => {
    await http().get('/admin').expect(301).expect('location', '/admin/');
    const res = await http().get('/admin/').expect(200);
    expect(res.text).toBe(INDEX);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('routes of the SPA fall back to index.html (deep links, reloads)', async () => {
    for (const path of ['/admin/collections', '/admin/collections/posts', '/admin/functions/hello', '/admin/no/such/page']) {
      const res = await http().get(path).expect(200);
      expect(res.text, path).toBe(INDEX);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('hashed assets are cached for a year as immutable; a missing asset is a 404, not the SPA', async () => {
    const res = await http().get('/admin/assets/index-abc123.js').expect(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await http().get('/admin/assets/index-old999.js').expect(404);
    expect(missing.text).not.toContain('<!doctype html>');
  });

  it('other files of the build are served, revalidated', async () => {
    const res = await http().get('/admin/robots.txt').expect(200);
    expect(res.text).toContain('Disallow');
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('never serves a file outside the build directory', async () => {
    for (const path of ['/admin/../outside-dashboard.txt', '/admin/%2e%2e/outside-dashboard.txt', '/admin/assets/..%2f..%2foutside-dashboard.txt']) {
      const res = await http().get(path);
      expect(res.text, path).not.toContain('secret');
    }
  });

  it('the api under /v1 is unaffected, including /v1/admin routes and its JSON 404', async () => {
    const res = await http().get('/v1/admin/nothing-here').set(svc).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    await http().get('/v1/admin/api-keys').set(svc).expect(200);
  });

  it('a missing build answers 503 with how to build it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'dashboard-empty-'));
    const other = await startApi(testConfig({ DASHBOARD_DIR: empty }));
    try {
      const res = await request(other.getHttpServer()).get('/admin/').expect(503);
      expect(res.text).toContain('npm run build');
    } finally {
      await other.close();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('DELETE /v1/admin/users/:id/sessions ends every session of the user (admin only)', async () => {
    const user = await createUser(app);
    const res = await http().delete(`/v1/admin/users/${user.id}/sessions`).set(svc).expect(200);
    expect(res.body).toEqual({ revoked: 1 });
    const refresh = await http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    expect(refresh.body.code).toBeDefined();
    // The revoked session's access token stops at once (checked live), not only its refresh token.
    expect((await http().get('/v1/collections').set(bearer(user)).expect(401)).body.code).toBe('SESSION_REVOKED');
    const other = await createUser(app);
    await http().delete(`/v1/admin/users/${user.id}/sessions`).set(bearer(other)).expect(403);
    const missing = await http().delete('/v1/admin/users/00000000-0000-4000-8000-000000000000/sessions').set(svc).expect(404);
    expect(missing.body.code).toBe('USER_NOT_FOUND');
    await http().delete('/v1/admin/users/not-a-uuid/sessions').set(svc).expect(400);
  });

  it('GET /v1/admin/overview answers counts, 24 hourly buckets, queues and request totals (admin only)', async () => {
    const user = await createUser(app);
    const res = await http().get('/v1/admin/overview').set(svc).expect(200);
    expect(res.body.counts.users).toBeGreaterThanOrEqual(1);
    expect(res.body.runs.hourly).toHaveLength(24);
    expect(Object.keys(res.body.queues).sort()).toEqual(['email', 'events', 'functions']);
    expect(res.body.requests.total).toBeGreaterThan(0);
    expect(Array.isArray(res.body.recentErrors)).toBe(true);
    const again = await http().get('/v1/admin/overview').set(svc).expect(200);
    expect(again.body.requests.total).toBeGreaterThan(res.body.requests.total);
    await http().get('/v1/admin/overview').set(bearer(user)).expect(403);
    await http().get('/v1/admin/overview').expect(401);
  });
});
