import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxPool } from '../../apps/worker/src/sandbox/sandbox-pool.js';
import { freePort } from '../support/net.js';
import { deploy, getRun, type Stack, startStack, svc, waitForRun } from './support.js';

const js = (stack: Stack, name: string, source: string, extra: Record<string, unknown> = {}) =>
  deploy(stack, name, { source, language: 'js', triggers: [{ type: 'http' }], ...extra });

/** Issue 11 #10: the worker writes its log lines as they happen, with the run id on lines about a run. */
describe('worker logs', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logged = (match: Record<string, unknown>) =>
    expect.poll(() => lines.filter((l) => Object.entries(match).every(([k, v]) => (typeof v === 'function' ? (v as (x: unknown) => boolean)(l[k]) : l[k] === v))).length, { timeout: 15_000 });

  beforeAll(async () => {
    stack = await startStack({}, 0);
    http = request(stack.api.getHttpServer());
    await stack.startWorker({ LOG_LEVEL: 'info' }, { logDestination: destination });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('logs its start and configuration warnings (SMTP_HOST unset)', async () => {
    await logged({ msg: 'worker started', name: 'worker' }).toBe(1);
    await logged({ level: 40, msg: (m: unknown) => typeof m === 'string' && m.startsWith('SMTP_HOST is not set') }).toBe(1);
  });

  it('logs a dead run with its run id', async () => {
    await js(stack, 'always-fails', "export default () => { throw new Error('no'); }", { retries: 1, backoffMs: 50 });
    const started = await http.post('/v1/functions/always-fails/invoke?async=true').set(svc).send({}).expect(202);
    await waitForRun(stack, started.body.runId, ['dead']);
    await logged({ msg: 'function run is dead (every attempt failed)', runId: started.body.runId, code: 'FUNCTION_ERROR' }).toBe(1);
  });

  it('logs a sandbox host crash with the runs it held', async () => {
    const pool = stack.workers[0]!.get(SandboxPool);
    await js(stack, 'sleeps', 'export default async () => { await new Promise((r) => setTimeout(r, 1500)); return 1; }', { retries: 1 });
    const started = await http.post('/v1/functions/sleeps/invoke?async=true').set(svc).send({}).expect(202);
    await waitForRun(stack, started.body.runId, ['running']);
    // Hosts start on demand, and "running" is written before the run reaches one: wait until
    // a host holds it, or the kill could land on a host that has not got it yet.
    await expect.poll(() => pool.busyHostPids().length).toBe(1);
    const [pid] = pool.busyHostPids();
    process.kill(pid!, 'SIGKILL');
    await logged({ msg: 'sandbox host died; starting another', pid, runIds: (ids: unknown) => Array.isArray(ids) && ids.includes(started.body.runId) }).toBe(1);
    await logged({ msg: 'function run lost its sandbox host', runId: started.body.runId }).toBe(1);
    await waitForRun(stack, started.body.runId, ['succeeded']);
  });

  it('logs a failed email attempt with the message id', async () => {
    await stack.workers[0]!.close(); // the next worker (SMTP on a closed port) takes the email
    stack.workers.length = 0;
    await stack.startWorker({ LOG_LEVEL: 'info', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(await freePort()) }, { logDestination: destination });
    const sent = await http.post('/v1/email/send').set(svc).send({ to: 'someone@example.com', subject: 'Hi', text: 'x' }).expect(202);
    await logged({ msg: 'email attempt failed, will retry', emailId: sent.body.id, attempt: 1 }).toBe(1);
  });
});

/** Issue 11 #18: one function's backlog does not hold back another function. */
describe('fair share of worker slots between functions', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    stack = await startStack({ WORKER_CONCURRENCY: '4', SANDBOX_HOSTS: '1' });
    http = request(stack.api.getHttpServer());
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a run longer than FUNCTIONS_LOCK_MS keeps its lock: one attempt, not a second start by the stalled-job check', async () => {
    // FUNCTIONS_LOCK_MS is 2000 in these stacks
    await js(stack, 'long', 'export default async () => { await new Promise((r) => setTimeout(r, 3500)); return "long"; }', { timeoutMs: 10_000, retries: 2 });
    const res = await http.post('/v1/functions/long/invoke?async=true').set(svc).send({}).expect(202);
    expect(await waitForRun(stack, res.body.runId, ['succeeded', 'dead'], 30_000)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('an unrelated function runs while another has a backlog larger than WORKER_CONCURRENCY', async () => {
    // per-function concurrency (10) is above WORKER_CONCURRENCY (4): without fair share the backlog takes every slot
    await js(stack, 'backlog', 'export default async () => { await new Promise((r) => setTimeout(r, 1500)); return "slow"; }', { timeoutMs: 10_000 });
    await js(stack, 'unrelated', 'export default () => "quick"');
    const backlog: string[] = [];
    for (let i = 0; i < 8; i++) backlog.push((await http.post('/v1/functions/backlog/invoke?async=true').set(svc).send({}).expect(202)).body.runId);
    await expect
      .poll(async () => (await Promise.all(backlog.map((id) => getRun(stack, id)))).filter((r) => r.status === 'running').length, { timeout: 10_000, interval: 50 })
      .toBeGreaterThanOrEqual(3);

    const quick = await http.post('/v1/functions/unrelated/invoke').set(svc).send({}).expect(200);
    expect(quick.body).toMatchObject({ status: 'succeeded', result: 'quick' });
    const unrelated = await getRun(stack, quick.body.runId);
    // Some of the backlog had not started when the unrelated function ran (FIFO would have started all 8 first).
    const runs = await Promise.all(backlog.map((id) => getRun(stack, id)));
    const startedLater = runs.filter((r) => r.status === 'queued' || String(r.startedAt) > String(unrelated.startedAt));
    expect(startedLater.length).toBeGreaterThanOrEqual(1);
    // And the backlog itself all completes, each run in one attempt.
    for (const id of backlog) expect(await waitForRun(stack, id, ['succeeded'], 30_000)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});
