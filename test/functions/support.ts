import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import request from 'supertest';
import { expect, inject } from 'vitest';
import type { AppConfig } from '#libs/config';
import { createWorker } from '../../apps/worker/src/worker.factory.js';
import { startApi } from '../support/app.js';
import { createMigratedDatabase } from '../support/databases.js';
import { deleteKeys } from '../support/redis.js';
import { SERVICE_KEY, testConfig } from '../support/config.js';
import { freePort } from '../support/net.js';

/**
 * The functions tests run a worker, whose outbox relay would also take other test files'
 * events from the run's shared database (and theirs would take ours). So each functions
 * test file gets a database and a queue prefix of its own, migrated like the run's.
 */
export async function isolatedDatabase(): Promise<{ databaseUrl: string; queuePrefix: string; drop(): Promise<void> }> {
  const db = await createMigratedDatabase(inject('adminDatabaseUrl'), 'baas_fn');
  const queuePrefix = `${inject('queuePrefix')}_fn_${db.name.slice(-8)}`;
  return {
    databaseUrl: db.url,
    queuePrefix,
    drop: async () => {
      await deleteKeys(inject('redisUrl'), `${queuePrefix}:*`);
      await db.drop();
    },
  };
}

export interface Stack {
  api: NestFastifyApplication;
  /** The api's base URL (it listens, so the worker's ctx bridge can call it). */
  apiUrl: string;
  workers: INestApplicationContext[];
  db: pg.Pool;
  config: AppConfig;
  databaseUrl: string;
  queuePrefix: string;
  startWorker(overrides?: Record<string, string>, options?: Parameters<typeof createWorker>[1]): Promise<INestApplicationContext>;
  close(): Promise<void>;
}

/** A listening api and one in-process worker on a database of their own. */
export async function startStack(overrides: Record<string, string> = {}, workers = 1): Promise<Stack> {
  const isolated = await isolatedDatabase();
  const base = {
    DATABASE_URL: isolated.databaseUrl,
    QUEUE_PREFIX: isolated.queuePrefix,
    OUTBOX_POLL_MS: '200',
    FUNCTIONS_LOCK_MS: '2000',
    SANDBOX_HOSTS: '1',
    ...overrides,
  };
  const config = testConfig(base);
  const api = await startApi(config);
  await api.listen({ port: 0, host: '127.0.0.1' });
  const address = api.getHttpServer().address();
  const apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const db = new pg.Pool({ connectionString: isolated.databaseUrl, max: 3 });
  const stack: Stack = {
    api,
    apiUrl,
    workers: [],
    db,
    config,
    databaseUrl: isolated.databaseUrl,
    queuePrefix: isolated.queuePrefix,
    async startWorker(extra = {}, options = {}) {
      const worker = await createWorker(testConfig({ ...base, API_INTERNAL_URL: apiUrl, ...extra }), options);
      stack.workers.push(worker);
      return worker;
    },
    async close() {
      for (const w of stack.workers) await w.close().catch(() => undefined);
      await api.close();
      await db.end();
      await isolated.drop();
    },
  };
  for (let i = 0; i < workers; i++) await stack.startWorker();
  return stack;
}

export const svc = { 'x-api-key': SERVICE_KEY };

/** Deploys a function with the service key and expects success. */
export async function deploy(stack: Stack, name: string, body: Record<string, unknown>): Promise<request.Response> {
  const res = await request(stack.api.getHttpServer()).put(`/v1/functions/${name}`).set(svc).send(body);
  expect(res.status, res.text).toBeLessThan(300);
  return res;
}

export async function getRun(stack: Stack, id: string): Promise<Record<string, unknown> & { status: string }> {
  const res = await request(stack.api.getHttpServer()).get(`/v1/functions/runs/${id}`).set(svc).expect(200);
  return res.body as Record<string, unknown> & { status: string };
}

/** Polls a run until it reaches one of `statuses`. */
export async function waitForRun(
  stack: Stack,
  id: string,
  statuses: string[] = ['succeeded', 'failed', 'timed_out', 'dead'],
  timeout = 20_000,
): Promise<Record<string, unknown> & { status: string }> {
  let run: (Record<string, unknown> & { status: string }) | undefined;
  await expect
    .poll(
      async () => {
        run = await getRun(stack, id);
        return statuses.includes(run.status);
      },
      { timeout, interval: 50 },
    )
    .toBe(true);
  return run!;
}

/** Runs of a function (newest first), through the api. */
export async function runsOf(stack: Stack, name: string, query = ''): Promise<(Record<string, unknown> & { id: string; status: string })[]> {
  const res = await request(stack.api.getHttpServer()).get(`/v1/functions/${name}/runs${query}`).set(svc).expect(200);
  return res.body.items as (Record<string, unknown> & { id: string; status: string })[];
}

/** Writes an outbox event directly, as a committed data/storage/auth change would. */
export async function insertOutbox(stack: Stack, type: string, payload: Record<string, unknown>, id?: string): Promise<string> {
  const { rows } = await stack.db.query<{ id: string }>(
    'INSERT INTO outbox_events (id, type, payload) VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3::jsonb) RETURNING id',
    [id ?? null, type, JSON.stringify(payload)],
  );
  return rows[0]!.id;
}

/** The worker as `npm start` runs it, from the build (`npm test` builds first). */
export const WORKER_MAIN = 'dist/apps/worker/src/main.js';

/** Starts a worker process from the build on this database and queue prefix; resolves once it is live. */
export async function spawnWorker(target: { databaseUrl: string; queuePrefix: string; apiUrl: string }, extra: Record<string, string> = {}): Promise<ChildProcess> {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run \`npm run build\` first (npm test does).`);
  const port = await freePort();
  const child = spawn(process.execPath, ['--no-node-snapshot', WORKER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: target.databaseUrl,
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: target.queuePrefix,
      SERVICE_API_KEY: SERVICE_KEY,
      JWT_SECRET: testConfig().JWT_SECRET,
      API_INTERNAL_URL: target.apiUrl,
      WORKER_CONCURRENCY: '1',
      FUNCTIONS_LOCK_MS: '2000',
      SANDBOX_HOSTS: '1',
      WORKER_HEALTH_PORT: String(port),
      LOG_LEVEL: 'warn',
      ...extra,
    },
    detached: true,
    stdio: 'ignore',
  });
  await expect
    .poll(async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.status, { timeout: 20_000, interval: 100 })
    .toBe(200);
  return child;
}

/** Stops a worker process started by spawnWorker (and its process group). */
export function stopWorker(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.exitCode === null && child.signalCode === null && child.pid) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }
}
