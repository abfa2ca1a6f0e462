import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '#libs/functions';
import { deploy, type Stack, startStack, svc } from '../functions/support.js';

/** The built rotation command, as ops/rotate-secrets.sh runs it in a container (`npm test` builds first). */
const ROTATE = 'dist/scripts/rotate-functions-key.js';
const OLD_KEY = 'old-functions-key-0123456789abcdefghijkl';
const NEW_KEY = 'new-functions-key-0123456789abcdefghijkl';

describe('FUNCTIONS_SECRET_KEY rotation (dist/scripts/rotate-functions-key.js)', () => {
  let stack: Stack;

  beforeAll(async () => {
    if (!existsSync(ROTATE)) throw new Error(`${ROTATE} is missing: run \`npm run build\` first (npm test does).`);
    stack = await startStack({ FUNCTIONS_SECRET_KEY: OLD_KEY }, 0);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const rotate = (env: Record<string, string>) =>
    spawnSync(process.execPath, [ROTATE], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: stack.databaseUrl, ...env },
      encoding: 'utf8',
    });
  const sealedOf = async (name: string) =>
    (await stack.db.query<{ secrets: string }>('SELECT secrets FROM functions WHERE name = $1', [name])).rows[0]!.secrets;

  it('re-encrypts every function secret with the new key, so a worker with the new key runs them', async () => {
    const source = 'export default (event, ctx) => ({ env: ctx.env })';
    await deploy(stack, 'rot-a', { source, language: 'js', secrets: { TOKEN: 'secret-a' } });
    await deploy(stack, 'rot-b', { source, language: 'js', secrets: { OTHER: 'secret-b' } });
    await deploy(stack, 'rot-none', { source, language: 'js' });
    const before = await sealedOf('rot-a');

    // Refused without the old key, and without a new one.
    expect(rotate({ FUNCTIONS_SECRET_KEY: NEW_KEY }).status).toBe(1);
    expect(rotate({ OLD_FUNCTIONS_SECRET_KEY: OLD_KEY }).stderr).toMatch(/FUNCTIONS_SECRET_KEY/);
    expect(await sealedOf('rot-a')).toBe(before);

    const run = rotate({ OLD_FUNCTIONS_SECRET_KEY: OLD_KEY, FUNCTIONS_SECRET_KEY: NEW_KEY });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/secrets of 2 function\(s\); 0 already/);
    const after = await sealedOf('rot-a');
    expect(new SecretBox(NEW_KEY).open(after)).toEqual({ TOKEN: 'secret-a' });
    expect(() => new SecretBox(OLD_KEY).open(after)).toThrow();

    // A worker holding only the new key runs the function with its secret.
    await stack.startWorker({ FUNCTIONS_SECRET_KEY: NEW_KEY });
    const res = await request(stack.api.getHttpServer()).post('/v1/functions/rot-b/invoke').set(svc).send({}).expect(200);
    expect(res.body.result).toEqual({ env: { OTHER: 'secret-b' } });

    // Repeating an (interrupted) rotation changes nothing.
    const again = rotate({ OLD_FUNCTIONS_SECRET_KEY: OLD_KEY, FUNCTIONS_SECRET_KEY: NEW_KEY });
    expect(again.stdout).toMatch(/secrets of 0 function\(s\); 2 already/);
    expect(await sealedOf('rot-a')).toBe(after);
  });

  it('changes nothing when a secret opens with neither key', async () => {
    await stack.db.query("UPDATE functions SET secrets = $1 WHERE name = 'rot-b'", [new SecretBox('a-third-key-0123456789abcdefghijklmn').seal({ X: 'y' })]);
    const third = await sealedOf('rot-b');
    const rotatedA = await sealedOf('rot-a');
    const run = rotate({ OLD_FUNCTIONS_SECRET_KEY: NEW_KEY, FUNCTIONS_SECRET_KEY: 'newer-functions-key-0123456789abcdefghij' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/nothing was changed: .*"rot-b"/);
    expect(await sealedOf('rot-a')).toBe(rotatedA);
    expect(await sealedOf('rot-b')).toBe(third);
  });
});
