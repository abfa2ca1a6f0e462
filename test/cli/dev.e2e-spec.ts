import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevInfo } from '../../packages/cli/src/commands/dev.js';
import { createClient } from '../../packages/sdk/src/index.js';
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
