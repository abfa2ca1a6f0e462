import { type ChildProcess, spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../support/net.js';
import { deleteKeys } from '../support/redis.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';
import { containerEnv, envObject, parseEnvFile, readCompose } from './compose-files.js';
import { copyBuildContext } from './docker-context.js';

/**
 * The Dockerfile's stages replayed without a Docker engine: the build context (.dockerignore
 * applied) is compiled by the build stage's RUN lines, the prod-deps stage's RUN lines install
 * the production dependencies from the npm registry into an empty directory, and the runtime
 * stage's COPY and RUN lines assemble the image's /app. Then migrations, api and worker run
 * from that /app as an unprivileged user (the image's `node`; here `nobody`) with the compose
 * environment, against this run's Postgres, Redis and S3 emulator. Not replayed: the deps
 * stage (its `npm ci` is the worktree's node_modules, installed from the same lockfile) and the
 * base image (the Node running this test). docs/self-hosting.md lists what needs an engine.
 */
const ROOT = process.cwd();
// As root (CI), the processes run as nobody: like the image's `node`, it owns nothing but
// var/. Otherwise they run as the current user, and the read-only check is skipped.
const AS_ROOT = process.getuid?.() === 0;
const RUNTIME_UID = AS_ROOT ? 65534 : process.getuid!();
const RUNTIME_GID = AS_ROOT ? 65534 : process.getgid!();

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions by stage name (continuation lines joined). */
function dockerfileStages(): Map<string, Instruction[]> {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line.trim());
    if (!m || line.trim().startsWith('#')) continue;
    const [, op, args] = m as unknown as [string, string, string];
    if (op === 'FROM') {
      current = [];
      stages.set(/ AS (\S+)$/i.exec(args)?.[1] ?? `stage${stages.size}`, current);
    } else current.push({ op, args: args.replace(/\s+/g, ' ') });
  }
  return stages;
}

function run(command: string, args: string[], options: SpawnSyncOptions): void {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${String(result.stderr).slice(-3000)}`);
}

function bytesIn(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

/**
 * The lockfile paths a production install needs on this platform: from the root's
 * dependencies, through dependencies, optional dependencies and required peers (not optional
 * peers), each name resolved the way Node does (nearest node_modules up the tree).
 */
function productionClosure(packages: Record<string, LockEntry>): Set<string> {
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (packages[candidate]) return candidate;
      if (!dir) return undefined;
    }
  };
  const fits = (p: LockEntry) =>
    (!p.os || p.os.includes(process.platform)) && (!p.cpu || p.cpu.includes(process.arch)) && (!p.libc || p.libc.includes('glibc'));
  const needed = new Set<string>();
  const queue: [string, string][] = Object.keys(packages['']!.dependencies ?? {}).map((name) => ['', name]);
  while (queue.length) {
    const [from, name] = queue.pop()!;
    const path = resolve(from, name);
    if (!path || needed.has(path) || !fits(packages[path]!)) continue;
    needed.add(path);
    const p = packages[path]!;
    const peers = Object.keys(p.peerDependencies ?? {}).filter((n) => !p.peerDependenciesMeta?.[n]?.optional);
    for (const next of [...Object.keys(p.dependencies ?? {}), ...Object.keys(p.optionalDependencies ?? {}), ...peers]) queue.push([path, next]);
  }
  return needed;
}

describe('the runtime image, assembled from the Dockerfile without a Docker engine', () => {
  const work = mkdtempSync(join(tmpdir(), 'baas-image-'));
  const context = join(work, 'context'); // the build stage's /app
  const prodDeps = join(work, 'prod-deps'); // the prod-deps stage's /app
  const app = join(work, 'app'); // the runtime stage's /app
  const stageDirs: Record<string, string> = { build: context, 'prod-deps': prodDeps };
  const runtimeEnv: Record<string, string> = {};
  const children: ChildProcess[] = [];
  const database = `baas_image_${process.pid}_${randomBytes(4).toString('hex')}`;
  const queuePrefix = `${inject('queuePrefix')}_image`;
  let s3: S3Emulator | undefined;
  let appUrl = '';
  let workerUrl = '';
  let output = '';

  /**
   * Runs an image stage's RUN line with the shell, in that stage's /app. `npm cache clean`
   * only keeps the image small; here it would empty this machine's shared npm cache.
   */
  const runLine = (dir: string, line: string) =>
    run('sh', ['-c', line.replace(/&& npm cache clean --force/g, '')], { cwd: dir, env: { ...process.env, npm_config_update_notifier: 'false' } });

  beforeAll(async () => {
    chmodSync(work, 0o755);
    const stages = dockerfileStages();

    // build: the context as `COPY . .` gets it, the deps stage's node_modules, then its RUN lines.
    copyBuildContext(ROOT, context);
    symlinkSync(join(ROOT, 'node_modules'), join(context, 'node_modules'));
    for (const step of stages.get('build')!) if (step.op === 'RUN') runLine(context, step.args);

    // prod-deps: its COPY lines (from the context) and RUN lines, in an empty directory.
    mkdirSync(prodDeps);
    for (const step of stages.get('prod-deps')!) {
      if (step.op === 'COPY') for (const file of step.args.split(' ').slice(0, -1)) cpSync(join(context, file), join(prodDeps, file));
      if (step.op === 'RUN') runLine(prodDeps, step.args);
    }

    // runtime: COPY (from the context or a stage), RUN with /app and the node user mapped here.
    mkdirSync(app);
    for (const step of stages.get('runtime')!) {
      if (step.op === 'ENV') for (const [, k, v] of step.args.matchAll(/(\w+)=(\S+)/g)) runtimeEnv[k!] = v!;
      if (step.op === 'COPY') {
        const words = step.args.split(' ');
        const from = words[0]!.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        expect(words.some((w) => w.startsWith('--chown')), 'runtime files are owned by root').toBe(false);
        const target = words.pop()!.replace(/^\.\//, '');
        for (const source of words) {
          const src = from ? join(stageDirs[from]!, source.replace(/^\/app\//, '')) : join(context, source);
          const dest = target.endsWith('/') || words.length > 1 ? join(app, target, source.split('/').pop()!) : join(app, target);
          mkdirSync(join(dest, '..'), { recursive: true });
          // node_modules moves (it is large); everything else is copied.
          if (source.endsWith('node_modules')) renameSync(src, dest);
          else cpSync(src, dest, { recursive: true });
        }
      }
      if (step.op === 'RUN') runLine(app, step.args.replaceAll('/app/', `${app}/`).replaceAll('node:node', `${RUNTIME_UID}:${RUNTIME_GID}`));
    }

    // The compose environment of api and worker, with the service host names replaced by this machine's.
    s3 = await startS3Emulator('baas-image');
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const databaseUrl = new URL(inject('adminDatabaseUrl'));
    databaseUrl.pathname = `/${database}`;
    const installed = join(work, 'installed.env');
    run(join(ROOT, 'ops/install.sh'), ['--env-file', installed], { cwd: ROOT });
    const env = envObject(parseEnvFile(readFileSync(installed, 'utf8')));
    const compose = readCompose(join(ROOT, 'docker-compose.yml'));
    const port = await freePort();
    const workerPort = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    workerUrl = `http://127.0.0.1:${workerPort}`;
    const local = {
      PATH: process.env.PATH ?? '',
      HOME: join(app, 'var'),
      ...runtimeEnv,
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: queuePrefix,
      ...s3.env,
      PUBLIC_URL: appUrl,
      SMTP_HOST: '', // no SMTP server: mail goes to var/mail as .eml files
      LOG_LEVEL: 'warn',
    };
    const start = (service: 'api' | 'worker', extra: Record<string, string>) => {
      const spec = compose.services[service]!;
      const command = spec.command as string[];
      const child = spawn(command[0]!, command.slice(1), {
        cwd: app,
        env: { ...containerEnv(spec, env), ...local, ...extra },
        uid: RUNTIME_UID,
        gid: RUNTIME_GID,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      children.push(child);
    };
    start('api', { PORT: String(port) });
    start('worker', { WORKER_HEALTH_PORT: String(workerPort), API_INTERNAL_URL: appUrl, PORT: String(port) });
  }, 420_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await s3?.stop();
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
    await deleteKeys(inject('redisUrl'), `${queuePrefix}:*`);
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  const status = async (url: string) => (await fetch(url).catch(() => undefined))?.status;

  it('holds production dependencies only, at the lockfile versions', () => {
    const modules = join(app, 'node_modules');
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const installed = JSON.parse(readFileSync(join(modules, '.package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    // Exactly what production needs: not the devDependencies, nor what the lockfile marks
    // devOptional because it is also an optional peer of a production package (prisma,
    // typescript and their dependents), and nothing missing.
    // Compared as name@version: without the dev tree npm may hoist a package to another path.
    // Equal sets also mean every version is the lockfile's.
    const ids = (packages: Record<string, LockEntry>, paths: Iterable<string>) =>
      new Set([...paths].map((path) => `${path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${packages[path]!.version}`));
    const expected = ids(lock.packages, productionClosure(lock.packages));
    const present = ids(installed.packages, Object.keys(installed.packages).filter((path) => path !== ''));
    expect(expected.size).toBeGreaterThan(100);
    expect([...present].filter((id) => !expected.has(id))).toEqual([]);
    expect([...expected].filter((id) => !present.has(id))).toEqual([]);
    for (const name of ['prisma', 'typescript', '@prisma/studio-core', '@electric-sql/pglite', 'vitest', 'eslint']) expect(existsSync(join(modules, name)), name).toBe(false);
    // The runtime needs these; a missing one would fail below anyway, this names it.
    for (const name of ['@prisma/client', 'isolated-vm', '@node-rs/argon2', '@swc/core', 'minio']) expect(existsSync(join(modules, name)), name).toBe(true);
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
    process.stdout.write(`runtime /app: node_modules ${mib(bytesIn(modules))}, dist ${mib(bytesIn(join(app, 'dist')))}\n`);
  });

  it('migrates, then serves a ready api and a live worker as an unprivileged user', async () => {
    await expect.poll(() => status(`${appUrl}/v1/health/ready`), { timeout: 90_000, interval: 500 }).toBe(200);
    await expect.poll(() => status(`${workerUrl}/health/live`), { timeout: 60_000, interval: 500 }).toBe(200);
    expect(output).toMatch(/Migrations: /);
  }, 150_000);

  it('signs a user up, and runs a TypeScript function in the worker (native modules load)', async () => {
    const signup = await fetch(`${appUrl}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `image-${randomBytes(3).toString('hex')}@example.com`, password: 'a long password' }),
    });
    expect(signup.status).toBe(201);
    expect(await signup.json()).toMatchObject({ accessToken: expect.any(String), user: { emailVerified: false } });

    const env = envObject(parseEnvFile(readFileSync(join(work, 'installed.env'), 'utf8')));
    const key = { 'x-api-key': env.SERVICE_API_KEY!, 'content-type': 'application/json' };
    const deploy = await fetch(`${appUrl}/v1/functions/image-hello`, {
      method: 'PUT',
      headers: key,
      body: JSON.stringify({ source: 'export default async (event: { payload: { n: number } }) => ({ doubled: event.payload.n * 2 })', triggers: [{ type: 'http' }] }),
    });
    expect(deploy.status, await deploy.clone().text()).toBeLessThan(300);
    const invoke = await fetch(`${appUrl}/v1/functions/image-hello/invoke`, { method: 'POST', headers: key, body: JSON.stringify({ n: 21 }) });
    expect(await invoke.json()).toMatchObject({ status: 'succeeded', result: { doubled: 42 } });
  }, 60_000);

  it.skipIf(!AS_ROOT)('cannot change its own code, only var/', () => {
    const as = (script: string) =>
      spawnSync(process.execPath, ['-e', script], { cwd: app, uid: RUNTIME_UID, gid: RUNTIME_GID, encoding: 'utf8' }).status;
    expect(as("require('fs').appendFileSync('dist/apps/api/src/main.js', '//')")).not.toBe(0);
    expect(as("require('fs').writeFileSync('node_modules/minio/injected.js', 'x')")).not.toBe(0);
    expect(as("require('fs').writeFileSync('package.json', '{}')")).not.toBe(0);
    expect(as("require('fs').writeFileSync('var/storage/probe', 'x')")).toBe(0);
  });

  it('stops api and worker on SIGTERM', async () => {
    const exits = children.map((child) => new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal))));
    for (const child of children) child.kill('SIGTERM');
    // The api runs under `sh -c ... && exec node`: exec makes node the signalled process.
    expect(await Promise.all(exits)).toEqual(['SIGTERM', 'SIGTERM']);
  }, 40_000);
});
