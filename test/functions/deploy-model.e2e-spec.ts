import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { deploy, type Stack, startStack, svc, waitForRun } from './support.js';

/**
 * The deploy model (issue 20): new code keeps the settings, PATCH changes settings, versions
 * roll back, http access is declared, callers read their own runs, stacks point at source.
 */
describe('functions: the deploy model', () => {
  let stack: Stack;
  let http: ReturnType<typeof request>;
  let alice: TestUser;
  let bob: TestUser;
  let editor: TestUser;

  beforeAll(async () => {
    stack = await startStack();
    http = request(stack.api.getHttpServer());
    [alice, bob, editor] = await Promise.all([
      createUser(stack.api),
      createUser(stack.api),
      createUser(stack.api, { roles: ['editor'] }),
    ]);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const triggerRows = async (name: string) =>
    (
      await stack.db.query<{ type: string; target: string | null; cron: string | null; access: string | null }>(
        `SELECT t.type, t.target, t.cron, t.access FROM function_triggers t JOIN functions f ON f.id = t.function_id
          WHERE f.name = $1 ORDER BY t.type`,
        [name],
      )
    ).rows;

  it('keeps triggers, limits, schedules and secrets when new code is deployed with source alone', async () => {
    const settings = {
      triggers: [
        { type: 'http', access: 'public' },
        { type: 'db', collection: 'comments', events: ['create'] },
        { type: 'schedule', cron: '0 3 * * *', timezone: 'Europe/Paris' },
      ],
      timeoutMs: 4321,
      memoryMb: 64,
      retries: 5,
      backoffMs: 250,
      concurrency: 3,
      secrets: { SMTP_TOKEN: 'tok' },
    };
    await deploy(stack, 'notify-comment', { source: 'export default () => 1', language: 'js', ...settings });
    const before = await triggerRows('notify-comment');

    const v2 = await deploy(stack, 'notify-comment', { source: 'export default (e, ctx) => ({ v: 2, token: ctx.env.SMTP_TOKEN })' });
    expect(v2.status).toBe(200);
    const { secrets: _secrets, ...kept } = settings;
    expect(v2.body).toMatchObject({ version: 2, language: 'ts', ...kept, secretNames: ['SMTP_TOKEN'] });
    expect(await triggerRows('notify-comment')).toEqual(before);

    // Anonymous invoke still honours the kept access (public), and the secrets are still there.
    const res = await http.post('/v1/functions/notify-comment/invoke').send({}).expect(200);
    expect(res.body.result).toEqual({ v: 2, token: 'tok' });
  });

  it('changes settings with PATCH (a new version with the same code), and refuses empty or unknown changes', async () => {
    const patched = await http
      .patch('/v1/functions/notify-comment')
      .set(svc)
      .send({ timeoutMs: 2000, triggers: [{ type: 'http', access: 'service' }] })
      .expect(200);
    expect(patched.body).toMatchObject({ version: 3, timeoutMs: 2000, memoryMb: 64, retries: 5, triggers: [{ type: 'http', access: 'service' }] });
    expect(await triggerRows('notify-comment')).toEqual([{ type: 'http', target: null, cron: null, access: 'service' }]);
    const view = await http.get('/v1/functions/notify-comment').set(svc).expect(200);
    expect(view.body.source).toContain('v: 2'); // same code

    const empty = await http.patch('/v1/functions/notify-comment').set(svc).send({}).expect(400);
    expect(empty.body.code).toBe('VALIDATION_FAILED');
    await http.patch('/v1/functions/notify-comment').set(svc).send({ source: 'export default () => 3' }).expect(400);
    await http.patch('/v1/functions/notify-comment').set(svc).send({ timeoutMs: 5 }).expect(400);
    const missing = await http.patch('/v1/functions/nobody-here').set(svc).send({ timeoutMs: 2000 }).expect(404);
    expect(missing.body.code).toBe('FUNCTION_NOT_FOUND');
    await http.patch('/v1/functions/notify-comment').set(bearer(alice)).send({ timeoutMs: 2000 }).expect(403);
  });

  it('lists versions and rolls back to one (its code and settings, as a new version; secrets stay)', async () => {
    const rolled = await http.post('/v1/functions/notify-comment/rollback').set(svc).send({ version: 1 }).expect(200);
    expect(rolled.body).toMatchObject({ version: 4, rollbackOf: 1, timeoutMs: 4321, secretNames: ['SMTP_TOKEN'] });
    const versions = await http.get('/v1/functions/notify-comment/versions').set(svc).expect(200);
    expect(versions.body.items.map((v: { version: number; rollbackOf: number | null }) => [v.version, v.rollbackOf])).toEqual([
      [4, 1],
      [3, null],
      [2, null],
      [1, null],
    ]);
    const res = await http.post('/v1/functions/notify-comment/invoke').send({}).expect(200);
    expect(res.body.result).toBe(1); // version 1's code
    expect((await waitForRun(stack, res.body.runId)).version).toBe(4);

    const noVersion = await http.post('/v1/functions/notify-comment/rollback').set(svc).send({ version: 99 }).expect(404);
    expect(noVersion.body.code).toBe('FUNCTION_VERSION_NOT_FOUND');
    await http.post('/v1/functions/notify-comment/rollback').set(svc).send({ version: 'one' }).expect(400);
    await http.post('/v1/functions/nobody-here/rollback').set(svc).send({ version: 1 }).expect(404);
    await http.post('/v1/functions/notify-comment/rollback').set(bearer(alice)).send({ version: 1 }).expect(403);
  });

  it('declares who may call over http: public, authenticated (the default), service, role:<name>', async () => {
    const admin = await createUser(stack.api, { roles: ['admin'] });
    const cases: [string, unknown, Record<string, number>][] = [
      ['acc-default', [{ type: 'http' }], { anonymous: 401, alice: 200, editor: 200, service: 200, admin: 200 }],
      ['acc-public', [{ type: 'http', access: 'public' }], { anonymous: 200, alice: 200, editor: 200, service: 200, admin: 200 }],
      ['acc-auth', [{ type: 'http', access: 'authenticated' }], { anonymous: 401, alice: 200, editor: 200, service: 200, admin: 200 }],
      ['acc-service', [{ type: 'http', access: 'service' }], { anonymous: 401, alice: 403, editor: 403, service: 200, admin: 200 }],
      ['acc-editor', [{ type: 'http', access: 'role:editor' }], { anonymous: 401, alice: 403, editor: 200, service: 200, admin: 200 }],
      ['acc-none', [], { anonymous: 404, alice: 404, editor: 404, service: 200, admin: 200 }],
    ];
    const callers: Record<string, Record<string, string>> = { anonymous: {}, alice: bearer(alice), editor: bearer(editor), service: svc, admin: bearer(admin) };
    for (const [name, triggers, expected] of cases) {
      await deploy(stack, name, { source: 'export default () => "ran"', language: 'js', triggers });
      for (const [who, status] of Object.entries(expected)) {
        const res = await http.post(`/v1/functions/${name}/invoke`).set(callers[who]!).send({});
        expect([name, who, res.status]).toEqual([name, who, status]);
        if (status === 401) expect(res.body.code).toBe('UNAUTHENTICATED');
        if (status === 403) expect(res.body.code).toBe('FORBIDDEN');
      }
    }
    // A refused invocation leaves no run behind.
    const { rows } = await stack.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM function_runs r JOIN functions f ON f.id = r.function_id WHERE f.name = 'acc-service'",
    );
    expect(rows[0]!.n).toBe(2);

    for (const access of ['everyone', 'role:', 'role:a b', 'Public', 42]) {
      const res = await http
        .put('/v1/functions/acc-bad')
        .set(svc)
        .send({ source: 'export default () => 1', triggers: [{ type: 'http', access }] });
      expect([access, res.status, res.body.code]).toEqual([access, 400, 'VALIDATION_FAILED']);
    }
  });

  it('lets the user who invoked a run read it (logs only when the function allows), and nobody else', async () => {
    const source = 'export default async (e, ctx) => { ctx.log("for the caller"); if (e.payload?.fail) throw new Error("nope"); return { ok: true }; }';
    await deploy(stack, 'mine', { source, language: 'js', triggers: [{ type: 'http' }] });
    await deploy(stack, 'mine-logs', { source, language: 'js', triggers: [{ type: 'http', callerLogs: true }] });
    const alice = await createUser(stack.api); // no runs of earlier tests

    const started = await http.post('/v1/functions/mine/invoke?async=true').set(bearer(alice)).send({}).expect(202);
    const runId = started.body.runId as string;
    await waitForRun(stack, runId);
    const own = await http.get(`/v1/functions/runs/${runId}`).set(bearer(alice)).expect(200);
    expect(own.body).toMatchObject({ id: runId, function: 'mine', status: 'succeeded', result: { ok: true } });
    expect(own.body).not.toHaveProperty('logs');
    expect(own.body).not.toHaveProperty('event');

    const other = await http.get(`/v1/functions/runs/${runId}`).set(bearer(bob)).expect(404);
    expect(other.body.code).toBe('RUN_NOT_FOUND');
    await http.get(`/v1/functions/runs/${runId}`).expect(401);
    // The admin view keeps everything.
    expect((await http.get(`/v1/functions/runs/${runId}`).set(svc).expect(200)).body).toMatchObject({ event: { type: 'http' }, logs: [expect.anything()] });

    const failed = await http.post('/v1/functions/mine-logs/invoke').set(bearer(alice)).send({ fail: true }).expect(200);
    const withLogs = await http.get(`/v1/functions/runs/${failed.body.runId}`).set(bearer(alice)).expect(200);
    expect(withLogs.body).toMatchObject({ status: 'failed', error: { code: 'FUNCTION_ERROR', message: 'Error: nope' } });
    expect(withLogs.body.error).not.toHaveProperty('stack');
    expect(withLogs.body.logs).toEqual([expect.objectContaining({ message: 'for the caller' })]);

    // Lists: a user sees their own invocations only.
    await http.post('/v1/functions/mine/invoke').set(bearer(bob)).send({}).expect(200);
    const aliceRuns = await http.get('/v1/functions/runs').set(bearer(alice)).expect(200);
    expect(aliceRuns.body.items.map((r: { id: string }) => r.id).sort()).toEqual([runId, failed.body.runId].sort());
    const bobRuns = await http.get('/v1/functions/mine/runs').set(bearer(bob)).expect(200);
    expect(bobRuns.body.items).toHaveLength(1);
    expect(bobRuns.body.items[0]).not.toHaveProperty('event');
  });

  it('points error stacks at the line of the deployed source', async () => {
    const source = [
      'interface Input { n: number }', // 1
      '', // 2
      'function check(input: Input): number {', // 3
      '  if (input.n > 1) throw new Error("too big");', // 4
      '  return input.n;', // 5
      '}', // 6
      'export default async (event: { payload: Input }) => check(event.payload);', // 7
    ].join('\n');
    await deploy(stack, 'stacky', { source, triggers: [{ type: 'http', access: 'public' }] });
    const res = await http.post('/v1/functions/stacky/invoke').send({ n: 5 }).expect(200);
    expect(res.body.error).toMatchObject({ code: 'FUNCTION_ERROR', message: 'Error: too big' });
    const run = await waitForRun(stack, res.body.runId);
    const stackText = (run.error as { stack: string }).stack;
    expect(stackText).toMatch(/at check \(function\.ts:4:\d+\)/);
    expect(stackText).toMatch(/function\.ts:7:\d+/);
    expect(stackText).not.toContain('function.js');
  });

  it('shows the next tick of each schedule and the last scheduled run', async () => {
    await deploy(stack, 'nightly', {
      source: 'export default () => 1',
      language: 'js',
      triggers: [{ type: 'schedule', cron: '0 3 * * *', timezone: 'Europe/Paris' }],
    });
    const view = await http.get('/v1/functions/nightly').set(svc).expect(200);
    expect(view.body.schedules).toEqual([{ cron: '0 3 * * *', timezone: 'Europe/Paris', nextRunAt: expect.any(String) }]);
    const next = new Date(view.body.schedules[0].nextRunAt);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(25 * 3600_000);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(next)).toBe('03:00');
    expect(view.body.lastScheduledRun).toBeNull();

    await deploy(stack, 'ticking', {
      source: 'export default () => 1',
      language: 'js',
      triggers: [{ type: 'schedule', cron: '* * * * * *' }],
    });
    await expect
      .poll(async () => ((await http.get('/v1/functions/ticking').set(svc)).body as { lastScheduledRun: { status: string } | null }).lastScheduledRun?.status, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe('succeeded');
    const ticking = await http.get('/v1/functions/ticking').set(svc).expect(200);
    expect(ticking.body.lastScheduledRun).toMatchObject({ runId: expect.any(String), scheduledAt: expect.any(String) });
    await http.delete('/v1/functions/ticking').set(svc).expect(204);
  });
});
