import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from './support/net.js';

/**
 * The built entry points as `npm start` runs them (`npm test` builds first): real processes,
 * real signals, real configuration errors.
 */
const API_MAIN = 'dist/apps/api/src/main.js';

/** How the process ended: `0`, another exit code, or the signal that ended it. */
function exited(child: ChildProcess): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal!)));
}

describe('processes', () => {
  const children: ChildProcess[] = [];
  const baseEnv = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: inject('queuePrefix'),
    LOG_LEVEL: 'warn',
  };

  beforeAll(() => {
    if (!existsSync(API_MAIN)) throw new Error(`${API_MAIN} is missing: run \`npm run build\` first (npm test does).`);
  });
  afterEach(() => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    }
    children.length = 0;
  });

  it('`npm run start:prod` migrates, serves a ready api and a live worker, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const workerPort = await freePort();
    const child = spawn('npm', ['run', '-s', 'start:prod'], {
      env: { ...baseEnv, PORT: String(port), WORKER_HEALTH_PORT: String(workerPort) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

    const status = async (url: string) => (await fetch(url).catch(() => undefined))?.status;
    await expect
      .poll(() => status(`http://127.0.0.1:${port}/v1/health/ready`), { timeout: 20_000, interval: 250 })
      .toBe(200);
    await expect
      .poll(() => status(`http://127.0.0.1:${workerPort}/health/live`), { timeout: 20_000, interval: 250 })
      .toBe(200);
    expect(output).toMatch(/Migrations: /);

    // npm and concurrently pass SIGTERM on; both ports close once api and worker are gone.
    process.kill(-child.pid!, 'SIGTERM');
    await exited(child);
    await expect.poll(() => status(`http://127.0.0.1:${port}/v1/health/live`), { timeout: 15_000 }).toBeUndefined();
    await expect.poll(() => status(`http://127.0.0.1:${workerPort}/health/live`), { timeout: 15_000 }).toBeUndefined();
  }, 60_000);

  it.each([
    ['api', [API_MAIN]],
    ['worker', ['--no-node-snapshot', 'dist/apps/worker/src/main.js']],
  ])('the %s shuts down on SIGTERM after closing its connections', async (_name, args) => {
    const healthPort = await freePort();
    const child = spawn(process.execPath, args, {
      env: { ...baseEnv, PORT: String(healthPort), WORKER_HEALTH_PORT: String(healthPort) },
      detached: true,
      stdio: 'ignore',
    });
    children.push(child);
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${healthPort}${args[0] === API_MAIN ? '/v1' : ''}/health/live`).catch(() => undefined))?.status, {
        timeout: 20_000,
        interval: 250,
      })
      .toBe(200);
    child.kill('SIGTERM');
    // Nest closes the app, then re-raises the signal so the exit status says SIGTERM
    // (143 in a shell); a stuck shutdown would instead exit 1 from the main.ts timer.
    expect(await exited(child)).toBe('SIGTERM');
  }, 30_000);

  it('a bad setting stops the api with one line naming the variable', () => {
    const run = spawnSync(process.execPath, [API_MAIN], { env: { ...baseEnv, PORT: 'abc' }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PORT .*"abc"/);
  });

  it('the worker refuses a bad REDIS_URL the same way', () => {
    const run = spawnSync(process.execPath, ['dist/apps/worker/src/main.js'], {
      env: { ...baseEnv, REDIS_URL: 'http://not-redis' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(/^Invalid configuration: REDIS_URL must be a URL starting with redis:\/\//);
  });

  it('`npm run admin:create` creates a first admin, and promotes an existing account', async () => {
    const email = `first-admin-${process.pid}-${Date.now()}@example.test`;
    const create = spawnSync(process.execPath, ['dist/scripts/admin-create.js', '--email', email], {
      env: { ...baseEnv, ADMIN_PASSWORD: 'a long admin password' },
      encoding: 'utf8',
    });
    expect(create.stderr).toBe('');
    expect(create.stdout).toMatch(new RegExp(`^Created admin: ${email} \\(`));
    const again = spawnSync(process.execPath, ['dist/scripts/admin-create.js', '--email', email.toUpperCase()], {
      env: baseEnv,
      encoding: 'utf8',
    });
    expect(again.stdout).toMatch(/^Made admin: /);
    const db = new pg.Client({ connectionString: inject('databaseUrl') });
    await db.connect();
    const { rows } = await db.query<{ roles: string[]; password_hash: string }>(
      'SELECT roles, password_hash FROM users WHERE email = $1',
      [email],
    );
    await db.end();
    expect(rows).toEqual([{ roles: ['admin'], password_hash: expect.stringMatching(/^\$argon2id\$/) }]);
    const noPassword = spawnSync(process.execPath, ['dist/scripts/admin-create.js', '--email', `x-${email}`], {
      env: baseEnv,
      encoding: 'utf8',
    });
    expect(noPassword.status).toBe(1);
    expect(noPassword.stderr).toMatch(/needs a password/);
  });

  const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((bin) => {
    if (!existsSync(bin)) return false;
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
    return Number(version.slice(1).split('.')[0]) < 24;
  });

  // This machine's system Node is 20: the check runs wherever an older Node is installed.
  it.runIf(oldNode)('an older Node stops with one clear line', () => {
    const run = spawnSync(oldNode!, [API_MAIN], { env: baseEnv, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(/^This project needs Node\.js 24 or newer \(found 2\d\./);
  });
});
