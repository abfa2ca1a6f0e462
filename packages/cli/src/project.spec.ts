import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError, EXIT } from './exit-codes.js';
import { Project } from './project.js';

describe('Project', () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'selfbaas-project-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function failure(fn: () => unknown): CliError {
    try {
      fn();
    } catch (err) {
      if (err instanceof CliError) return err;
      throw err;
    }
    throw new Error('did not fail');
  }

  it('is found from a subfolder; the environment wins over the env file', () => {
    write('selfbaas.json', JSON.stringify({ functions: { hello: { timeoutMs: 5000, secrets: ['TOKEN'] } } }));
    write('.env', 'SELFBAAS_URL=http://from-file:3000\nSELFBAAS_SERVICE_KEY=file-key\n');
    write('functions/hello.ts', 'export default async () => 1;');
    write('functions/other.js', 'export default async () => 2;');
    write('functions/types.d.ts', 'export {};');
    write('functions/README.md', '# not a function');
    mkdirSync(join(root, 'lib/deep'), { recursive: true });
    const project = Project.load(join(root, 'lib/deep'), { env: { SELFBAAS_URL: 'http://from-env:3000' } });
    expect(project.root).toBe(root);
    expect(project.target()).toMatchObject({ url: 'http://from-env:3000', key: 'file-key' });
    expect(project.functions().map((f) => [f.name, f.config])).toEqual([
      ['hello', { timeoutMs: 5000, secrets: ['TOKEN'] }],
      ['other', {}],
    ]);
    expect(project.select(['other']).map((f) => f.name)).toEqual(['other']);
    expect(failure(() => project.select(['nope'])).exitCode).toBe(EXIT.USAGE);
  });

  it('refuses a bad manifest, bad file names, a manifest entry without a file, and a bad target, with exit 3', () => {
    expect(failure(() => Project.load(root, { env: {} })).message).toContain('No selfbaas.json');
    write('selfbaas.json', '{ "functions": ');
    expect(failure(() => Project.load(root, { env: {} })).message).toContain('not valid JSON');
    write('selfbaas.json', JSON.stringify({ functions: { hello: { timeoutMs: 'soon', secrets: ['not-a-name'] } }, extra: true }));
    const invalid = failure(() => Project.load(root, { env: {} }));
    expect([invalid.exitCode, invalid.details.sort()]).toEqual([
      EXIT.CONFIG,
      expect.arrayContaining([expect.stringContaining('functions.hello.timeoutMs'), expect.stringContaining('functions.hello.secrets.0'), expect.stringContaining('extra')]),
    ]);
    write('selfbaas.json', JSON.stringify({ functions: { ghost: {} } }));
    expect(failure(() => Project.load(root, { env: {} }).functions()).message).toContain('no ghost.ts');
    write('selfbaas.json', JSON.stringify({ functions: {} }));
    write('functions/Bad Name.ts', '');
    expect(failure(() => Project.load(root, { env: {} }).functions()).exitCode).toBe(EXIT.CONFIG);
    rmSync(join(root, 'functions'), { recursive: true });
    write('functions/twice.ts', '');
    write('functions/twice.js', '');
    expect(failure(() => Project.load(root, { env: {} }).functions()).message).toContain('Two files');
    expect(failure(() => Project.load(root, { env: {} }).target()).message).toContain('SELFBAAS_URL and SELFBAAS_SERVICE_KEY not set');
    expect(failure(() => Project.load(root, { env: { SELFBAAS_URL: 'ftp://x', SELFBAAS_SERVICE_KEY: 'k' } }).target()).message).toContain('not an http(s) URL');
    expect(failure(() => Project.load(root, { env: {}, envFile: '.env.missing' })).message).toContain('does not exist');
  });
});
