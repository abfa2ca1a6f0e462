import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevInfo } from '../../packages/cli/src/commands/dev.js';
import { createClient } from '../../packages/sdk/src/index.js';
import { createMigratedDatabase } from '../support/databases.js';
import { cliRunner, tempDir } from './support.js';

const API_MAIN = 'dist/apps/api/src/main.js';

type Ready = DevInfo & { type: 'ready' };

/** Starts `selfbaas dev --json` in-process; resolves with its ready line, and a stop() that waits for its exit code. */
async function startDev(cli: ReturnType<typeof cliRunner>) {
  const stop = new AbortController();
  let out: { text: string } | undefined;
  const done = cli(['dev', '--port', '0', '--json'], { signal: stop.signal, onOutput: (s) => (out = s) });
  let ready: Ready | undefined;
  await expect
    .poll(
      async () => {
        const line = out?.text.split('\n').find((l) => l.includes('"type":"ready"'));
        if (line) ready = JSON.parse(line) as Ready;
        // Ended before it was ready: surface why.
        const early = await Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10))]);
        if (early) throw new Error(`dev ended with ${early.code}: ${early.stderr}`);
        return ready !== undefined;
      },
      { timeout: 90_000, interval: 200 },
    )
    .toBe(true);
  return {
    ready: ready!,
    stop: async () => {
      stop.abort();
      return done;
    },
  };
}

describe('CLI dev: the whole backend locally (embedded PostgreSQL, local redis-server, api and worker from the build)', () => {
  let dir: ReturnType<typeof tempDir>;
  let cli: ReturnType<typeof cliRunner>;

  beforeAll(async () => {
    if (!existsSync(API_MAIN)) throw new Error(`${API_MAIN} is missing: run \`npm run build\` first (npm test does)`);
    dir = tempDir('dev');
    // As root, PostgreSQL runs as the postgres user, which must be able to enter the project folder.
    chmodSync(dir.path, 0o755);
    // No DATABASE_URL, no REDIS_URL: dev starts its own.
    cli = cliRunner(dir.path, {});
    expect((await cli(['init', 'app'])).code).toBe(0);
    cli = cliRunner(join(dir.path, 'app'), {});
  });
  afterAll(() => dir?.remove());

  it('refuses a port in use, and a data folder the postgres user cannot reach (as root)', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    try {
      const taken = await cli(['dev', '--port', String(port)]);
      expect([taken.code, taken.stderr]).toEqual([2, expect.stringContaining(`Port ${port} is in use`)]);
    } finally {
      busy.close();
    }
    if (process.getuid?.() === 0) {
      const closed = tempDir('closed');
      try {
        chmodSync(closed.path, 0o700);
        const inner = cliRunner(closed.path, {});
        expect((await inner(['init', 'p'])).code).toBe(0);
        const refused = await cliRunner(join(closed.path, 'p'), {})(['dev', '--port', '0']);
        expect([refused.code, refused.stderr]).toEqual([3, expect.stringContaining(`cannot enter ${closed.path}`)]);
      } finally {
        closed.remove();
      }
    }
  });

  it('uses DATABASE_URL and REDIS_URL when they are set (no embedded PostgreSQL, no redis-server)', { timeout: 120_000 }, async () => {
    const db = await createMigratedDatabase(inject('adminDatabaseUrl'), 'baas_cli_dev');
    try {
      const external = cliRunner(join(dir.path, 'app'), { DATABASE_URL: db.url, REDIS_URL: inject('redisUrl'), QUEUE_PREFIX: `${inject('queuePrefix')}_dev` });
      const running = await startDev(external);
      try {
        expect(running.ready).toMatchObject({ database: 'DATABASE_URL', redis: 'REDIS_URL' });
        const service = createClient({ url: running.ready.apiUrl, apiKey: running.ready.serviceKey });
        await service.admin.collections.create({ name: 'things', fields: [{ name: 'n', type: 'integer' }], rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' } } as never);
        // The data went to that database.
        const pool = new pg.Pool({ connectionString: db.url, max: 1 });
        expect((await pool.query(`SELECT name FROM collections`)).rows).toEqual([{ name: 'things' }]);
        await pool.end();
      } finally {
        expect((await running.stop()).code).toBe(0);
      }
      expect(existsSync(join(dir.path, 'app/.selfbaas/dev/postgres'))).toBe(false);
    } finally {
      await db.drop();
    }
  });

  it('starts, serves deploy → invoke and sign-up mail, keeps its data across restarts, and stops on Ctrl-C', { timeout: 240_000 }, async () => {
    const first = await startDev(cli);
    const { ready } = first;
    expect(ready.database).toContain('embedded PostgreSQL');
    expect(ready.redis).toContain('redis-server');
    expect(ready.serviceKey).toMatch(/^sb_dev_/);

    // The project deploys to it with the env file dev wrote; the worker runs the function.
    const deployed = await cli(['deploy', '--env-file', '.env.dev']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const invoked = await cli(['invoke', 'hello', '--env-file', '.env.dev', '--json']);
    expect(invoked.code, invoked.stderr).toBe(0);
    expect(invoked.json()).toMatchObject({ status: 'succeeded', result: { message: 'Hello, world!' } });

    // Mail goes to files in the project (a sign-up sends a verification email).
    const app = createClient({ url: ready.apiUrl });
    await app.auth.signUp({ email: 'dev@example.test', password: 'correct horse battery staple' });
    await expect.poll(() => (existsSync(ready.mailDir) ? readdirSync(ready.mailDir).filter((f) => f.endsWith('.eml')).length : 0), { timeout: 30_000 }).toBeGreaterThan(0);

    const stopped = await first.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    await expect(fetch(`${ready.apiUrl}/v1/health/live`)).rejects.toThrow();

    // Started again: same key, same data (the function and the user are still there).
    const second = await startDev(cli);
    try {
      expect(second.ready.serviceKey).toBe(ready.serviceKey);
      const service = createClient({ url: second.ready.apiUrl, apiKey: second.ready.serviceKey });
      expect((await service.admin.functions.list()).items.map((f) => f.name)).toEqual(['hello']);
      expect((await service.admin.users.list()).items.map((u) => u.email)).toEqual(['dev@example.test']);
    } finally {
      expect((await second.stop()).code).toBe(0);
    }
  });
});
