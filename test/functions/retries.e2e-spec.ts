import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, insertOutbox, runsOf, type Stack, startStack, svc, waitForRun } from './support.js';

describe('functions: retries, dead letter, replay, concurrency', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    stack = await startStack({ WORKER_CONCURRENCY: '4' });
    http = request(stack.api.getHttpServer());
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('retries a failing event run with backoff, then leaves it dead; a replay with the fixed version succeeds with the same event', async () => {
    const broken = `export default (event, ctx) => { ctx.log('attempt for', event.documentId); throw new Error('cannot handle ' + event.documentId); }`;
    await deploy(stack, 'flaky', {
      source: broken,
      language: 'js',
      triggers: [{ type: 'db', collection: 'jobs', events: ['create'] }],
      retries: 2,
      backoffMs: 20,
    });
    const eventId = await insertOutbox(stack, 'db.change', {
      collection: 'jobs',
      operation: 'create',
      documentId: 'job-7',
      before: null,
      after: { id: 'job-7' },
      actor: { type: 'anonymous' },
    });
    await expect.poll(async () => (await runsOf(stack, 'flaky')).length, { timeout: 10_000 }).toBe(1);
    const [first] = await runsOf(stack, 'flaky');
    const dead = await waitForRun(stack, first!.id, ['dead']);
    expect(dead).toMatchObject({ status: 'dead', attempts: 3, maxAttempts: 3, eventId });
    expect(dead.error).toMatchObject({ code: 'FUNCTION_ERROR', message: 'Error: cannot handle job-7' });
    expect(dead.logs).toEqual([expect.objectContaining({ message: 'attempt for job-7' })]);

    const deadList = await http.get('/v1/functions/runs?status=dead').set(svc).expect(200);
    expect(deadList.body.items.map((r: { id: string }) => r.id)).toContain(first!.id);

    // Replaying the unchanged function fails again: a new run, the old one kept.
    const again = await http.post(`/v1/functions/runs/${first!.id}/retry`).set(svc).expect(202);
    expect(again.body).toMatchObject({ status: 'queued', replayOf: first!.id });
    expect((await waitForRun(stack, again.body.runId, ['dead'])).status).toBe('dead');

    // Fix, redeploy, replay: the same event now succeeds on version 2.
    await deploy(stack, 'flaky', {
      source: 'export default (event) => ({ handled: event.documentId, eventId: event.id })',
      language: 'js',
      triggers: [{ type: 'db', collection: 'jobs', events: ['create'] }],
      retries: 2,
      backoffMs: 20,
    });
    const replay = await http.post(`/v1/functions/runs/${first!.id}/retry`).set(svc).expect(202);
    const fixed = await waitForRun(stack, replay.body.runId);
    expect(fixed).toMatchObject({ status: 'succeeded', version: 2, eventId, replayOf: first!.id, result: { handled: 'job-7', eventId } });
    expect((await waitForRun(stack, first!.id)).status).toBe('dead');
  });

  it('records a failed synchronous invoke (one attempt) and refuses to replay a successful run', async () => {
    await deploy(stack, 'thrower', { source: 'export default () => { throw new RangeError("nope"); }', language: 'js' });
    const res = await http.post('/v1/functions/thrower/invoke').set(svc).send({}).expect(200);
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'FUNCTION_ERROR', message: 'RangeError: nope' } });
    const run = await waitForRun(stack, res.body.runId);
    expect(run).toMatchObject({ attempts: 1, maxAttempts: 1 });
    expect(String((run.error as { stack: string }).stack)).toContain('function.js');
    expect(String((run.error as { stack: string }).stack)).not.toMatch(/host\.(ts|js)|node:internal/);

    await deploy(stack, 'fine', { source: 'export default () => 1', language: 'js' });
    const ok = await http.post('/v1/functions/fine/invoke').set(svc).send({}).expect(200);
    const refused = await http.post(`/v1/functions/runs/${ok.body.runId}/retry`).set(svc).expect(409);
    expect(refused.body.code).toBe('RUN_NOT_RETRYABLE');
    await http.post('/v1/functions/runs/00000000-0000-4000-8000-000000000000/retry').set(svc).expect(404);
    await http.get('/v1/functions/runs/not-a-uuid').set(svc).expect(400);
  });

  it('a worker shutting down (SIGTERM) finishes its runs in flight first', async () => {
    await deploy(stack, 'finisher', {
      source: 'export default async () => { await new Promise((r) => setTimeout(r, 600)); return "finished"; }',
      language: 'js',
      retries: 0,
    });
    const { runId } = (await http.post('/v1/functions/finisher/invoke?async=true').set(svc).send({}).expect(202)).body;
    await waitForRun(stack, runId, ['running']);
    const worker = stack.workers.shift()!;
    await worker.close();
    const run = await waitForRun(stack, runId, ['succeeded', 'failed', 'dead'], 2_000);
    expect(run).toMatchObject({ status: 'succeeded', attempts: 1, result: 'finished' });
    await stack.startWorker();
  });

  it('never runs more than `concurrency` runs of one function at once', async () => {
    await deploy(stack, 'serial', {
      source: 'export default async () => { const s = Date.now(); await new Promise((r) => setTimeout(r, 150)); return { s, e: Date.now() }; }',
      language: 'js',
      concurrency: 1,
    });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await http.post('/v1/functions/serial/invoke?async=true').set(svc).send({}).expect(202)).body.runId);
    const runs = await Promise.all(ids.map((id) => waitForRun(stack, id)));
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    const spans = runs.map((r) => r.result as { s: number; e: number }).sort((a, b) => a.s - b.s);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.s).toBeGreaterThanOrEqual(spans[i - 1]!.e);
  });
});
