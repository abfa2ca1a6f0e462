import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, waitForRun } from '../functions/support.js';
import { createClient } from '../../packages/sdk/src/index.js';
import { SERVICE_KEY } from '../support/config.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { cliRunner, tempDir } from './support.js';

interface Change {
  name: string;
  action: 'create' | 'update' | 'unchanged';
  changes: string[];
  version?: number;
}

describe('CLI: init → deploy → invoke → logs against the real api and worker', () => {
  let stack: Stack;
  let dir: ReturnType<typeof tempDir>;
  let project: string;
  let cli: ReturnType<typeof cliRunner>;
  const write = (file: string, text: string) => {
    mkdirSync(join(project, file, '..'), { recursive: true });
    writeFileSync(join(project, file), text);
  };
  const manifest = (functions: Record<string, unknown>) => write('selfbaas.json', JSON.stringify({ functions }, null, 2));

  beforeAll(async () => {
    stack = await startStack();
    dir = tempDir('fn');
    project = join(dir.path, 'app');
    // GREETING is a secret value, given as the environment would.
    cli = cliRunner(dir.path, { GREETING: 'Howdy' });
  });
  afterAll(async () => {
    dir?.remove();
    await stack?.close();
  });

  it('init writes a project that deploys as it is', async () => {
    const created = await cli(['init', 'app', '--url', stack.apiUrl, '--key', SERVICE_KEY, '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json<{ written: string[] }>().written.sort()).toEqual(
      ['app/.env', 'app/.gitignore', 'app/functions/hello.ts', 'app/selfbaas.json', 'app/tsconfig.json'].sort(),
    );
    expect(readFileSync(join(project, '.env'), 'utf8')).toContain(`SELFBAAS_SERVICE_KEY=${SERVICE_KEY}`);
    // The template names the access of its http trigger (the server's default) and says the other values.
    expect(JSON.parse(readFileSync(join(project, 'selfbaas.json'), 'utf8'))).toMatchObject({ functions: { hello: { triggers: [{ type: 'http', access: 'authenticated' }] } } });
    const hello = readFileSync(join(project, 'functions/hello.ts'), 'utf8');
    for (const access of ['"public"', '"authenticated"', '"role:<name>"', '"service"', '"callerLogs"', '"runAs"']) expect(hello).toContain(access);
    // A second init would overwrite the project: refused (exit 3) unless --force.
    const again = await cli(['init', 'app']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('already exists');

    cli = cliRunner(project, { GREETING: 'Howdy' });
    const dry = await cli(['deploy', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json<{ dryRun: boolean; functions: Change[] }>()).toMatchObject({ dryRun: true, functions: [{ name: 'hello', action: 'create' }] });
    expect((await stack.db.query('SELECT 1 FROM functions')).rowCount).toBe(0);

    const invoked = await (async () => {
      const deployed = await cli(['deploy']);
      expect(deployed.code, deployed.stderr).toBe(0);
      expect(deployed.stdout).toContain('+ hello → v1: new function');
      return cli(['invoke', 'hello', '--json']);
    })();
    expect(invoked.code, invoked.stderr).toBe(0);
    expect(invoked.json()).toMatchObject({ status: 'succeeded', result: { message: 'Hello, world!' } });
  });

  it('bundles imports, sends secrets from the environment, deploys only what changed and says what', async () => {
    write('lib/greet.ts', `export const greet = (greeting: string, name: string): string => \`\${greeting}, \${name}!\`;\n`);
    write(
      'functions/greeter.ts',
      `import { greet } from '../lib/greet';
export default async (event: { payload: { name: string } }, ctx: { log(...a: unknown[]): void; env: Record<string, string> }) => {
  ctx.log('greeting', event.payload.name);
  if (event.payload.name === 'nobody') throw new Error('nobody to greet');
  return greet(ctx.env.GREETING ?? 'no secret', event.payload.name);
};
`,
    );
    manifest({ hello: { triggers: [{ type: 'http' }] }, greeter: { secrets: ['GREETING'], retries: 0 } });

    const first = await cli(['deploy', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const byName = (r: typeof first) => Object.fromEntries(r.json<{ functions: Change[] }>().functions.map((f) => [f.name, f]));
    expect(byName(first)).toMatchObject({ greeter: { action: 'create', version: 1 }, hello: { action: 'unchanged', version: 1 } });
    expect(await currentVersion('greeter')).toBe(1);

    const again = await cli(['deploy', '--json']);
    expect(byName(again)).toMatchObject({ greeter: { action: 'unchanged' }, hello: { action: 'unchanged' } });

    // The imported file changes: only greeter's bundle differs.
    write('lib/greet.ts', `export const greet = (greeting: string, name: string): string => \`\${greeting}, dear \${name}!\`;\n`);
    const edited = await cli(['deploy']);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toContain('~ greeter → v2: source');
    expect(edited.stdout).toContain('= hello unchanged (v1)');

    // Settings and secret values count as changes too.
    manifest({ hello: { triggers: [{ type: 'http' }], timeoutMs: 5000 }, greeter: { secrets: ['GREETING'], retries: 0 } });
    const settings = await cli(['deploy', '--dry-run']);
    expect(settings.stdout).toContain('~ hello: timeoutMs 10000 → 5000');
    expect(settings.stdout).not.toContain('greeter:');
    // Another env file (--env-file, or SELFBAAS_ENV_FILE) names another target: here, one that is unreachable.
    writeFileSync(join(project, '.env.elsewhere'), 'SELFBAAS_URL=http://127.0.0.1:9\nSELFBAAS_SERVICE_KEY=k\n');
    expect((await cli(['deploy', '--dry-run', '--env-file', '.env.elsewhere'])).code).toBe(6);
    expect((await cli(['deploy', '--dry-run'], { env: { SELFBAAS_ENV_FILE: '.env.elsewhere' } })).code).toBe(6);
    const secret = await cli(['deploy', 'greeter'], { env: { GREETING: 'Hello' } });
    expect(secret.stdout).toContain('~ greeter → v3: secret values');
    expect(secret.stdout).not.toContain('hello');

    // npm packages of the project (CommonJS and ES modules) and JSON files are bundled in.
    write('node_modules/shout-cjs/package.json', JSON.stringify({ name: 'shout-cjs', main: 'index.js' }));
    write('node_modules/shout-cjs/index.js', `module.exports = (s) => s.toUpperCase() + '!';\n`);
    write('node_modules/pad-esm/package.json', JSON.stringify({ name: 'pad-esm', type: 'module', exports: { '.': { import: './index.js' } } }));
    write('node_modules/pad-esm/index.js', `export const pad = (s) => '<' + s + '>';\n`);
    write('lib/words.json', JSON.stringify({ word: 'hey' }));
    write(
      'functions/loud.ts',
      `import shout from 'shout-cjs';\nimport { pad } from 'pad-esm';\nimport words from '../lib/words.json';\nexport default async () => pad(shout(words.word));\n`,
    );
    manifest({ hello: { triggers: [{ type: 'http' }] }, greeter: { secrets: ['GREETING'], retries: 0 }, loud: {} });
    const loud = await cli(['deploy', 'loud'], { env: { GREETING: 'Hello' } });
    expect(loud.code, loud.stderr).toBe(0);
    expect((await cli(['invoke', 'loud', '--json'])).json()).toMatchObject({ status: 'succeeded', result: '<HEY!>' });
    manifest({ hello: { triggers: [{ type: 'http' }] }, greeter: { secrets: ['GREETING'], retries: 0 } });
    rmSync(join(project, 'functions/loud.ts'));
    await createClient({ url: stack.apiUrl, apiKey: SERVICE_KEY }).admin.functions.delete('loud');

    const invoked = await cli(['invoke', 'greeter', '--data', 'payload.json', '--json'].map((a) => (a === 'payload.json' ? writePayload({ name: 'Ada' }) : a)));
    expect(invoked.code, invoked.stderr).toBe(0);
    expect(invoked.json()).toMatchObject({ status: 'succeeded', result: 'Hello, dear Ada!' });
  });

  async function currentVersion(name: string): Promise<number | undefined> {
    const { rows } = await stack.db.query<{ current_version: number }>('SELECT current_version FROM functions WHERE name = $1', [name]);
    return rows[0]?.current_version;
  }

  function writePayload(value: unknown): string {
    const file = join(project, `payload-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(value));
    return file;
  }

  it('shows compile errors with file and line, and deploys nothing then', async () => {
    write('functions/broken.ts', `export default async () => {\n  const x = ;\n  return x;\n};\n`);
    write('functions/hello.ts', `export default async () => 'changed';\n`);
    const result = await cli(['deploy']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('functions/broken.ts:2:13: Unexpected ";"');
    expect(result.stderr).toContain('const x = ;');
    expect(result.stdout).toBe('');
    expect(await currentVersion('hello')).toBe(1);

    write('functions/broken.ts', `import { readFileSync } from 'node:fs';\nexport default async () => readFileSync('/etc/passwd', 'utf8');\n`);
    const builtin = await cli(['deploy', 'broken']);
    expect(builtin.code).toBe(4);
    expect(builtin.stderr).toMatch(/functions\/broken\.ts:1:\d+: "node:fs" is a Node built-in/);
    write('functions/broken.ts', `export default async () => 1;\n`);
    manifest({ hello: { triggers: [{ type: 'http' }] }, greeter: { secrets: ['GREETING'], retries: 0 }, broken: { triggers: [{ type: 'db', collection: 'x', events: ['explode'] }] } });
    const rejected = await cli(['deploy', 'broken']);
    expect(rejected.code).toBe(5);
    expect(rejected.stderr).toContain('VALIDATION_FAILED (400)');
    expect(rejected.stderr).toContain('triggers.0.events.0');
  });

  it('sees no change where there is none, for every kind of trigger; names functions only the server has', async () => {
    write('functions/nightly.ts', `export default async () => 'ok';\n`);
    manifest({
      hello: { triggers: [{ type: 'http' }] },
      greeter: { secrets: ['GREETING'], retries: 0 },
      broken: {},
      nightly: {
        triggers: [
          { type: 'schedule', cron: '0 3 * * *', timezone: 'Europe/Paris' },
          { events: ['create', 'delete'], type: 'db', collection: 'posts' },
          { type: 'storage', bucket: 'pics', events: ['upload'] },
          { type: 'auth', events: ['signup'] },
          { type: 'http', access: 'admin' },
        ],
        concurrency: 2,
        backoffMs: 500,
        memoryMb: 64,
      },
    });
    const first = await cli(['deploy', 'nightly', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json<{ functions: Change[] }>().functions).toEqual([expect.objectContaining({ name: 'nightly', action: 'create' })]);
    const again = await cli(['deploy', 'nightly', '--json']);
    expect(again.json<{ functions: Change[] }>().functions).toEqual([expect.objectContaining({ name: 'nightly', action: 'unchanged', changes: [] })]);

    // A function deployed some other way is named, and left alone.
    await createClient({ url: stack.apiUrl, apiKey: SERVICE_KEY }).admin.functions.deploy('elsewhere', { source: 'export default async () => 1;' });
    const listed = await cli(['deploy', '--dry-run', '--json']);
    expect(listed.json()).toMatchObject({ serverOnly: ['elsewhere'] });
    expect((await cli(['deploy', '--dry-run'])).stdout).toContain('Only on the server (left alone; --prune deletes them): elsewhere');
    // --prune deletes them (the dry run only says so).
    expect((await cli(['deploy', '--prune', '--dry-run'])).stdout).toContain('- elsewhere: not in the project');
    expect((await cli(['deploy', 'hello', '--prune'])).code).toBe(2);
    // (GREETING as last deployed, so greeter's secret values are unchanged.)
    const pruned = await cli(['deploy', '--prune', '--json'], { env: { GREETING: 'Hello' } });
    expect(pruned.json()).toMatchObject({ deleted: ['elsewhere'] });
    expect(pruned.json<{ functions: Change[] }>().functions.find((f) => f.name === 'greeter')).toMatchObject({ action: 'unchanged' });
    await expect(createClient({ url: stack.apiUrl, apiKey: SERVICE_KEY }).admin.functions.get('elsewhere')).rejects.toMatchObject({ statusCode: 404 });
    // The manifest is the truth: listing no secrets any more removes them (a change of secret names).
    manifest({ hello: { triggers: [{ type: 'http' }] }, greeter: { retries: 0 }, broken: {} });
    const noSecrets = await cli(['deploy', 'greeter', '--dry-run']);
    expect(noSecrets.stdout).toContain('~ greeter: secret names');
    const service = createClient({ url: stack.apiUrl, apiKey: SERVICE_KEY });
    await service.admin.functions.delete('nightly');
    rmSync(join(project, 'functions/nightly.ts'));
  });

  it('http access, callerLogs and runAs from the manifest: server defaults are no change, settings alone are PATCHed; versions and rollback', async () => {
    const service = createClient({ url: stack.apiUrl, apiKey: SERVICE_KEY });
    write('functions/gate.ts', `export default async () => 'open';\n`);
    const base = { hello: { triggers: [{ type: 'http' }] }, greeter: { secrets: ['GREETING'], retries: 0 }, broken: {} };
    manifest({ ...base, gate: { triggers: [{ type: 'http', access: 'public', callerLogs: true }] } });
    const created = await cli(['deploy', 'gate', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect((await service.admin.functions.get('gate')).triggers).toEqual([{ type: 'http', access: 'public', callerLogs: true }]);
    // A public function answers an anonymous caller.
    expect(await createClient({ url: stack.apiUrl }).functions.invoke('gate')).toMatchObject({ status: 'succeeded', result: 'open' });

    // The server's defaults spelled out, or the old names it stores as new ones, are no change.
    const same = [
      [{ type: 'http', access: 'public', callerLogs: true, runAs: 'function' }],
      [{ runAs: 'function', callerLogs: true, access: 'public', type: 'http' }],
    ];
    for (const triggers of same) {
      manifest({ ...base, gate: { triggers } });
      const plan = await cli(['deploy', 'gate', '--dry-run', '--json']);
      expect(plan.json<{ functions: Change[] }>().functions, JSON.stringify(triggers)).toEqual([expect.objectContaining({ action: 'unchanged', changes: [] })]);
    }
    await service.admin.functions.deploy('gate', { source: (await service.admin.functions.get('gate')).source!, language: 'js', triggers: [{ type: 'http', access: 'user' }] });
    for (const triggers of [[{ type: 'http' }], [{ type: 'http', access: 'authenticated', callerLogs: false }], [{ type: 'http', access: 'user', runAs: 'function' }]]) {
      manifest({ ...base, gate: { triggers } });
      const plan = await cli(['deploy', 'gate', '--dry-run', '--json']);
      expect(plan.json<{ functions: Change[] }>().functions, JSON.stringify(triggers)).toEqual([expect.objectContaining({ action: 'unchanged', changes: [] })]);
    }

    // Only the settings changed: the CLI PATCHes them (the server keeps its code), never PUTs the bundle.
    manifest({ ...base, gate: { triggers: [{ type: 'http', access: 'role:editor', runAs: 'caller' }], timeoutMs: 5000 } });
    const methods: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      if (String(input instanceof Request ? input.url : input).includes('/v1/functions/gate')) methods.push(init?.method ?? 'GET');
      return realFetch(input, init);
    });
    let patched: Awaited<ReturnType<typeof cli>>;
    try {
      patched = await cli(['deploy', 'gate', '--json']);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(patched.code, patched.stderr).toBe(0);
    expect(patched.json<{ functions: Change[] }>().functions).toEqual([expect.objectContaining({ action: 'update', changes: ['triggers', 'timeoutMs 10000 → 5000'], version: 3 })]);
    expect(methods).toContain('PATCH');
    expect(methods).not.toContain('PUT');
    expect(await service.admin.functions.get('gate')).toMatchObject({ version: 3, timeoutMs: 5000, triggers: [{ type: 'http', access: 'role:editor', runAs: 'caller' }] });
    // The source changed too: a PUT with the bundle.
    write('functions/gate.ts', `export default async () => 'closed';\n`);
    expect((await cli(['deploy', 'gate', '--json'])).json<{ functions: Change[] }>().functions).toEqual([expect.objectContaining({ changes: ['source'], version: 4 })]);

    // versions lists them newest first; rollback makes v1 current again as v5.
    const listed = await cli(['versions', 'gate', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json<{ versions: { version: number }[] }>().versions.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    expect((await cli(['versions', 'gate'])).stdout).toMatch(/^v3 .* deploy {2}http \(role:editor\)$/m);
    const rolled = await cli(['rollback', 'gate', '1', '--json']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.json()).toEqual({ function: 'gate', version: 5, rollbackOf: 1 });
    expect(await service.admin.functions.get('gate')).toMatchObject({ version: 5, rollbackOf: 1, timeoutMs: 10000, triggers: [{ type: 'http', access: 'public', callerLogs: true }] });
    expect((await cli(['versions', 'gate'])).stdout).toMatch(/^v5 .* rollback of v1 {2}http \(public\)$/m);
    // An access the server does not know: its 400 names the field (exit 5), nothing changes.
    manifest({ ...base, gate: { triggers: [{ type: 'http', access: 'everyone' }] } });
    const refused = await cli(['deploy', 'gate']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('triggers.0.access');
    expect((await service.admin.functions.get('gate')).version).toBe(5);
    // Bad versions: not a number (exit 2), one the function never had (the api's 404, exit 5).
    expect((await cli(['rollback', 'gate', 'latest'])).code).toBe(2);
    const missing = await cli(['rollback', 'gate', '99']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('(404)');
    expect((await cli(['versions', 'nope'])).code).toBe(5);

    await service.admin.functions.delete('gate');
    rmSync(join(project, 'functions/gate.ts'));
    manifest(base);
  });

  it('a function deployed before the new access model (http without access was public) stays public after the migration, and the CLI sees it so', async () => {
    const service = createClient({ url: stack.apiUrl, apiKey: SERVICE_KEY });
    write('functions/legacy.ts', `export default async () => 'old';\n`);
    const base = { hello: { triggers: [{ type: 'http' }] }, greeter: { secrets: ['GREETING'], retries: 0 }, broken: {} };
    manifest({ ...base, legacy: { triggers: [{ type: 'http', access: 'public' }] } });
    expect((await cli(['deploy', 'legacy'])).code).toBe(0);
    // As the code before issue 20 stored it: no access in the version, the trigger row public (or unset).
    const fn = (await stack.db.query<{ id: string }>(`SELECT id FROM functions WHERE name = 'legacy'`)).rows[0]!.id;
    await stack.db.query(`UPDATE function_versions SET triggers = '[{"type":"http"}]', created_at = '2026-01-01' WHERE function_id = $1`, [fn]);
    await stack.db.query(`UPDATE function_triggers SET access = NULL WHERE function_id = $1`, [fn]);
    await stack.db.query(readFileSync(resolve('prisma/migrations/20261129210000_legacy_http_access/migration.sql'), 'utf8'));

    expect((await service.admin.functions.get('legacy')).triggers).toEqual([{ type: 'http', access: 'public' }]);
    expect(await createClient({ url: stack.apiUrl }).functions.invoke('legacy')).toMatchObject({ status: 'succeeded', result: 'old' });
    expect((await stack.db.query(`SELECT access FROM function_triggers WHERE function_id = $1`, [fn])).rows).toEqual([{ access: 'public' }]);
    // The manifest still says public: no change. Without access it now means authenticated: a change.
    expect((await cli(['deploy', 'legacy', '--dry-run', '--json'])).json<{ functions: Change[] }>().functions).toEqual([expect.objectContaining({ action: 'unchanged' })]);
    manifest({ ...base, legacy: { triggers: [{ type: 'http' }] } });
    expect((await cli(['deploy', 'legacy', '--dry-run', '--json'])).json<{ functions: Change[] }>().functions).toEqual([expect.objectContaining({ action: 'update', changes: ['triggers'] })]);
    // A version written since (without access: authenticated) is left as it is.
    expect((await cli(['deploy', 'legacy'])).code).toBe(0);
    await stack.db.query(readFileSync(resolve('prisma/migrations/20261129210000_legacy_http_access/migration.sql'), 'utf8'));
    expect((await service.admin.functions.get('legacy')).triggers).toEqual([{ type: 'http' }]);
    await expect(createClient({ url: stack.apiUrl }).functions.invoke('legacy')).rejects.toMatchObject({ statusCode: 401 });

    await service.admin.functions.delete('legacy');
    rmSync(join(project, 'functions/legacy.ts'));
    manifest(base);
  });

  it('invoke, runs, logs and retry; a failed run exits 7', async () => {
    const failed = await cli(['invoke', 'greeter', '--data', writePayload({ name: 'nobody' }), '--json']);
    expect(failed.code).toBe(7);
    const outcome = failed.json<{ runId: string; status: string; error: { message: string } }>();
    expect(outcome).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('nobody to greet') } });

    const runs = await cli(['runs', 'greeter', '--status', 'failed', '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.json<{ items: { id: string }[] }>().items.map((r) => r.id)).toContain(outcome.runId);
    const table = await cli(['runs', 'greeter']);
    expect(table.stdout).toMatch(new RegExp(`${outcome.runId} greeter v3 http failed`));

    // invoke shows what the function logged, and --json carries the lines.
    expect(failed.json()).toMatchObject({ logs: [expect.objectContaining({ level: 'log', message: 'greeting nobody' })] });
    const human = await cli(['invoke', 'greeter', '--data', writePayload({ name: 'Ada' })]);
    expect(human.stdout).toMatch(/log\s+greeting Ada\ngreeter: succeeded in \d+ ms/);
    const logs = await cli(['logs', 'greeter']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/greeter \w{8} log\s+greeting nobody/);
    expect(logs.stdout).toContain('nobody to greet');

    const retried = await cli(['retry', outcome.runId, '--json']);
    const replay = retried.json<{ runId: string }>();
    expect(replay.runId).not.toBe(outcome.runId);
    expect(retried.code === 0 || retried.code === 7).toBe(true);
    const replayRun = await stack.db.query<{ replay_of: string }>('SELECT replay_of FROM function_runs WHERE id = $1', [replay.runId]);
    expect(replayRun.rows[0]?.replay_of).toBe(outcome.runId);
    // Finished before the next test follows the logs (a run still going would be shown there).
    expect((await waitForRun(stack, replay.runId)).status).toBe('failed');
  });

  it('logs --follow streams new log lines and status changes until stopped', { timeout: 60_000 }, async () => {
    const stop = new AbortController();
    let captured: { text: string } | undefined;
    let diagnostics: { text: string } | undefined;
    const following = cli(['logs', 'greeter', '--follow', '--interval', '100', '--json'], { signal: stop.signal, onOutput: (o, e) => ((captured = o), (diagnostics = e)) });
    // Finished runs are history: only the runs started from now on (once it says it follows) appear.
    await expect.poll(() => diagnostics?.text ?? '', { timeout: 20_000 }).toContain('Following runs of greeter');
    const a = await cli(['invoke', 'greeter', '--async', '--data', writePayload({ name: 'Grace' }), '--json']);
    const b = await cli(['invoke', 'greeter', '--data', writePayload({ name: 'nobody' }), '--json']);
    const ids = [a.json<{ runId: string }>().runId, b.json<{ runId: string }>().runId];
    await expect
      .poll(() => captured!.text.split('\n').filter((l) => l.includes('"type":"status"') && /succeeded|failed/.test(l)).length, { timeout: 20_000, interval: 100 })
      .toBeGreaterThanOrEqual(2);
    stop.abort();
    const result = await following;
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; runId: string; message?: string; status?: string });
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set(ids));
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', runId: ids[0], message: 'greeting Grace' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'status', runId: ids[0], status: 'succeeded' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'status', runId: ids[1], status: 'failed' }));
  });

  it('logs --follow keeps following while the server is unreachable, and says so', { timeout: 60_000 }, async () => {
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(stack.apiUrl).port));
    await proxy.start();
    const stop = new AbortController();
    let out: { text: string } | undefined;
    let err: { text: string } | undefined;
    const following = cli(['logs', 'greeter', '--follow', '--interval', '100'], {
      signal: stop.signal,
      env: { SELFBAAS_URL: `http://127.0.0.1:${proxy.port}` },
      onOutput: (o, e) => ((out = o), (err = e)),
    });
    try {
      await expect.poll(() => err?.text ?? '', { timeout: 20_000 }).toContain('Following runs of greeter');
      await proxy.stop();
      await expect.poll(() => err!.text, { timeout: 20_000 }).toContain('still trying');
      await proxy.restart();
      await expect.poll(() => err!.text, { timeout: 20_000 }).toContain('The server answers again');
      const invoked = await cli(['invoke', 'greeter', '--data', writePayload({ name: 'Linus' })]);
      expect(invoked.code, invoked.stderr).toBe(0);
      await expect.poll(() => out!.text, { timeout: 20_000 }).toMatch(/greeting Linus[\s\S]*succeeded/);
    } finally {
      stop.abort();
      await proxy.stop();
    }
    expect((await following).code).toBe(0);
  });

  it('run executes a function locally in the worker\'s sandbox, against the server\'s data, recording nothing there', { timeout: 60_000 }, async () => {
    const service = createClient({ url: stack.apiUrl, apiKey: SERVICE_KEY });
    await service.admin.collections.create({
      name: 'notes',
      fields: [{ name: 'text', type: 'string', required: true }],
      rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
    } as never);
    await service.collection('notes').create({ text: 'already there' });
    write(
      'functions/notes.ts',
      `type Note = { text: string };
type Ctx = {
  db: { collection(name: string): { create(doc: Note): Promise<Note>; list(options: object): Promise<{ items: Note[] }> } };
  env: Record<string, string | undefined>;
  log(...values: unknown[]): void;
};
export default async (event: { type: string; payload: { text: string } }, ctx: Ctx) => {
  if (!event.payload?.text) throw new Error('no text given');
  const created = await ctx.db.collection('notes').create({ text: event.payload.text + ' ' + (ctx.env.GREETING ?? '-') });
  const all = await ctx.db.collection('notes').list({ sort: 'createdAt' });
  ctx.log('notes now', all.items.length);
  let blocked = 'no';
  try { await fetch('http://127.0.0.1:1/'); } catch (err) { blocked = String(err); }
  return { created: created.text, texts: all.items.map((n: { text: string }) => n.text), blocked, type: event.type, hasId: typeof (event as { id?: string }).id, actor: (event as { actor?: unknown }).actor };
};
`,
    );
    manifest({ hello: { triggers: [{ type: 'http' }] }, greeter: { secrets: ['GREETING'], retries: 0 }, notes: { secrets: ['GREETING'] }, broken: {} });
    const runsBefore = (await stack.db.query('SELECT count(*)::int AS n FROM function_runs')).rows[0].n as number;

    const ok = await cli(['run', 'notes', '--data', writePayload({ text: 'from my laptop' }), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({
      status: 'succeeded',
      logs: [expect.objectContaining({ message: 'notes now 2' })],
      result: { created: 'from my laptop Howdy', texts: ['already there', 'from my laptop Howdy'], type: 'http', hasId: 'string', actor: { type: 'anonymous' }, blocked: expect.stringContaining('Refused to fetch 127.0.0.1') },
    });
    // The write reached the server; the run itself is not recorded there (nothing was deployed).
    expect((await service.collection('notes').list()).items.map((n) => n.text)).toContain('from my laptop Howdy');
    expect((await stack.db.query('SELECT count(*)::int AS n FROM function_runs')).rows[0].n).toBe(runsBefore);
    expect(await currentVersion('notes')).toBeUndefined();

    // A failure shows the error and exits 7; --event takes a whole event, --from-run a recorded one.
    writeFileSync(join(project, 'event.json'), JSON.stringify({ type: 'http', payload: {}, user: null }));
    const failed = await cli(['run', 'notes', '--event', 'event.json']);
    expect(failed.code).toBe(7);
    expect(failed.stdout).toContain('notes (local): failed');
    expect(failed.stdout).toContain('no text given');
    const recorded = (await cli(['runs', 'greeter', '--status', 'failed', '--json'])).json<{ items: { id: string }[] }>().items[0]!.id;
    const replayed = await cli(['run', 'greeter', '--from-run', recorded, '--json']);
    expect(replayed.code).toBe(7);
    expect(replayed.json()).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('nobody to greet') } });
    expect((await cli(['run', 'notes', '--data', 'a.json', '--event', 'b.json'])).code).toBe(2);
  });

  it('answers bad input with a message and a meaningful exit code', async () => {
    const unknown = await cli(['invoke', 'no-such-fn']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain('FUNCTION_NOT_FOUND (404)');
    expect((await cli(['invoke', 'greeter', '--data', 'missing.json'])).code).toBe(2);
    writeFileSync(join(project, 'bad.json'), '{ nope');
    const badJson = await cli(['invoke', 'greeter', '--data', 'bad.json']);
    expect([badJson.code, badJson.stderr]).toEqual([2, expect.stringContaining('bad.json is not JSON')]);
    expect((await cli(['deploy', 'not-here'])).code).toBe(2);
    expect((await cli(['runs', '--limit', '1000'])).code).toBe(2);
    expect((await cli(['runs', '--status', 'sleeping'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);

    const outside = tempDir('outside');
    try {
      // -C names the project from anywhere.
      const elsewhere = await cliRunner(outside.path, { GREETING: 'x' })(['-C', project, 'deploy', '--dry-run', '--json']);
      expect(elsewhere.code, elsewhere.stderr).toBe(0);
      expect(elsewhere.json()).toMatchObject({ dryRun: true, target: stack.apiUrl });
      const version = await cliRunner(outside.path)(['--version']);
      expect([version.code, version.stdout.trim()]).toEqual([0, JSON.parse(readFileSync('packages/cli/package.json', 'utf8')).version]);
      const none = await cliRunner(outside.path)(['deploy']);
      expect([none.code, none.stderr]).toEqual([3, expect.stringContaining('No selfbaas.json')]);
      writeFileSync(join(outside.path, 'selfbaas.json'), JSON.stringify({ functions: { Bad: {} } }));
      const badManifest = await cliRunner(outside.path)(['deploy']);
      expect([badManifest.code, badManifest.stderr]).toEqual([3, expect.stringContaining('functions.Bad')]);
      writeFileSync(join(outside.path, 'selfbaas.json'), JSON.stringify({ functions: {} }));
      mkdirSync(join(outside.path, 'functions'));
      writeFileSync(join(outside.path, 'functions', 'f.ts'), 'export default async () => 1;');
      const noTarget = await cliRunner(outside.path)(['deploy']);
      expect([noTarget.code, noTarget.stderr]).toEqual([3, expect.stringContaining('SELFBAAS_URL and SELFBAAS_SERVICE_KEY not set')]);
      const unreachable = await cliRunner(outside.path, { SELFBAAS_URL: 'http://127.0.0.1:9', SELFBAAS_SERVICE_KEY: 'k' })(['invoke', 'f']);
      expect(unreachable.code).toBe(6);
      const wrongKey = await cliRunner(outside.path, { SELFBAAS_URL: stack.apiUrl, SELFBAAS_SERVICE_KEY: 'wrong' })(['deploy']);
      expect(wrongKey.code).toBe(5);
      expect(wrongKey.stderr).toMatch(/\(401\)/);
    } finally {
      outside.remove();
    }
  });

  it('the built bin runs as `npx selfbaas` would', { timeout: 120_000 }, async () => {
    const root = resolve(import.meta.dirname, '../..');
    await promisify(execFile)(process.execPath, [join(root, 'packages/cli/build.mjs')]);
    const bin = join(root, 'packages/cli/dist/selfbaas.js');
    expect(existsSync(bin)).toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'deploy', '--dry-run', '--json'], { cwd: project, env: { PATH: process.env['PATH'] ?? '', GREETING: 'Hello' } });
    expect(JSON.parse(stdout)).toMatchObject({ dryRun: true, target: stack.apiUrl });
    const failed = await promisify(execFile)(process.execPath, [bin, 'invoke', 'no-such-fn'], { cwd: project, env: { PATH: process.env['PATH'] ?? '' } }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 5, stderr: expect.stringContaining('FUNCTION_NOT_FOUND') });
    // run from the build: the sandbox (dist/local-sandbox.js) starts its host process from dist/host.js.
    const local = await promisify(execFile)(process.execPath, [bin, 'run', 'hello', '--json'], { cwd: project, env: { PATH: process.env['PATH'] ?? '' } });
    expect(JSON.parse(local.stdout)).toMatchObject({ function: 'hello', status: 'succeeded', result: 'changed' });
  });
});
