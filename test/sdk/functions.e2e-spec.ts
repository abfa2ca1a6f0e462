import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaasClient } from '../../packages/sdk/src/index.js';
import { type Stack, startStack } from '../functions/support.js';
import { PASSWORD, sdkClients, uniqueEmail } from './support.js';

describe('SDK functions against the real api and worker', () => {
  let stack: Stack;
  let sdk: ReturnType<typeof sdkClients>;
  let user: BaasClient;

  beforeAll(async () => {
    stack = await startStack();
    sdk = sdkClients(stack.apiUrl);
    user = sdk.app();
    await user.auth.signUp({ email: uniqueEmail('sdk-fn'), password: PASSWORD });
  });
  afterAll(async () => {
    sdk?.expectContractKept();
    await stack?.close();
  });

  it('deploys (201, then 200 for a new version), invokes synchronously, lists and deletes', async () => {
    const admin = sdk.service.admin.functions;
    const source = `export default async (event: { payload: { name: string }; user: { id: string } | null }) => ({ hello: event.payload.name, user: event.user?.id ?? null });`;
    const first = await admin.deploy('sdk-hello', { source, triggers: [{ type: 'http', access: 'public' }] });
    expect(first).toMatchObject({ name: 'sdk-hello', version: 1, created: true, language: 'ts' });
    const second = await admin.deploy('sdk-hello', { source, timeoutMs: 5000 });
    expect(second).toMatchObject({ version: 2, created: false, timeoutMs: 5000, triggers: [{ type: 'http', access: 'public' }] });
    const patched = await admin.patch('sdk-hello', { memoryMb: 64 });
    expect(patched).toMatchObject({ version: 3, timeoutMs: 5000, memoryMb: 64 });
    expect(await admin.rollback('sdk-hello', 1)).toMatchObject({ version: 4, rollbackOf: 1, timeoutMs: 10000, memoryMb: 128 });
    expect((await admin.versions('sdk-hello')).map((v) => v.version)).toEqual([4, 3, 2, 1]);
    expect((await admin.get('sdk-hello')).source).toBe(source);
    expect((await admin.list()).items.map((f) => f.name)).toContain('sdk-hello');

    const signedIn = await user.functions.invoke<{ hello: string; user: string | null }>('sdk-hello', { name: 'Ada' });
    expect(signedIn).toMatchObject({ status: 'succeeded', result: { hello: 'Ada', user: (await user.auth.getSession())!.user.id } });
    expect(signedIn.durationMs).toEqual(expect.any(Number));
    const anonymous = await sdk.app().functions.invoke('sdk-hello', { name: 'Bob' });
    expect(anonymous.result).toEqual({ hello: 'Bob', user: null });

    await admin.delete('sdk-hello');
    await expect(user.functions.invoke('sdk-hello')).rejects.toMatchObject({ statusCode: 404, code: 'FUNCTION_NOT_FOUND' });
  });

  it('invokes asynchronously (202), waits for the run, reads its logs; a failed run is replayed', async () => {
    const admin = sdk.service.admin.functions;
    await admin.deploy('sdk-async', {
      source: `export default async (event, ctx) => { ctx.log('got', event.payload.n); if (event.payload.n < 0) throw new Error('negative'); return event.payload.n * 2; };`,
      language: 'js',
      retries: 0,
    });
    const queued = await user.functions.invoke('sdk-async', { n: 21 }, { async: true });
    expect(queued).toMatchObject({ status: 'queued', durationMs: null });
    const run = await sdk.service.functions.waitForRun(queued.runId, { timeoutMs: 20_000 });
    expect(run).toMatchObject({ status: 'succeeded', result: 42, trigger: 'http', function: 'sdk-async' });
    expect((await sdk.service.functions.logs(queued.runId)).map((l) => l.message)).toEqual(['got 21']);

    const failed = await user.functions.invoke('sdk-async', { n: -1 });
    expect(failed).toMatchObject({ status: 'failed', error: { code: expect.any(String), message: expect.stringContaining('negative') } });
    const runs = await sdk.service.functions.runs('sdk-async', { status: 'failed' });
    expect(runs.items.map((r) => r.id)).toContain(failed.runId);
    const replay = await admin.retryRun(failed.runId);
    expect(replay).toMatchObject({ replayOf: failed.runId, status: 'queued' });
    expect(await sdk.service.functions.waitForRun(replay.runId, { timeoutMs: 20_000 })).toMatchObject({ status: 'failed' });
    // The user who invoked a run reads it (without its logs: the function does not allow them), nobody else does.
    const own = await user.functions.ownRun(queued.runId);
    expect(own).toMatchObject({ id: queued.runId, status: 'succeeded', result: 42 });
    expect(own).not.toHaveProperty('logs');
    expect((await user.functions.ownRuns({ function: 'sdk-async' })).items.map((r) => r.id)).toContain(queued.runId);
    await expect(sdk.service.functions.getRun(queued.runId)).resolves.toMatchObject({ logs: [expect.anything()] });
    await expect(sdk.app().functions.ownRun(queued.runId)).rejects.toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
  });

  it('honours the http trigger’s access, and reports bad deploys', async () => {
    const admin = sdk.service.admin.functions;
    await admin.deploy('sdk-members', { source: 'export default async () => "members only";', triggers: [{ type: 'http', access: 'user' }] });
    await expect(sdk.app().functions.invoke('sdk-members')).rejects.toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
    expect((await user.functions.invoke('sdk-members')).result).toBe('members only');
    await expect(admin.deploy('sdk-broken', { source: 'export default async ( => 1;' })).rejects.toMatchObject({
      statusCode: 400,
      code: 'COMPILE_FAILED',
    });
    await expect(admin.deploy('runs', { source: 'export default () => 1' })).rejects.toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
  });
});
