import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_KEYS, parseConfig } from '#libs/config';
import { containerEnv, envObject, interpolate, interpolatedNames, parseEnvFile, readCompose, readText } from './compose-files.js';

const READ = 'Read by docker-compose.yml';
const SET = 'Set by docker-compose.yml itself (values below match it; edit them only without Docker)';
const UNUSED = 'Not used by docker-compose.yml (defaults apply in the containers)';

const compose = readCompose();
const composeText = readText('docker-compose.yml');
const example = parseEnvFile(readText('.env.example'));
const names = (section: string) => example.filter((e) => e.section === section).map((e) => e.name).sort();
const appServices = [compose.services.api!, compose.services.worker!];
/** Variables api or worker get from compose, with the compose-file value. */
const passed = new Map(appServices.flatMap((s) => Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v ?? '')] as const)));

describe('.env.example', () => {
  it('has three sections and lists every variable once, each under a comment', () => {
    expect([...new Set(example.map((e) => e.section))]).toEqual([READ, SET, UNUSED]);
    const seen = example.map((e) => e.name);
    expect(seen.filter((n, i) => seen.indexOf(n) !== i)).toEqual([]);
    expect(example.filter((e) => e.comment === '').map((e) => e.name)).toEqual([]);
  });

  it('"Read by docker-compose.yml" is exactly what the compose file interpolates, plus COMPOSE_PROFILES', () => {
    expect(names(READ)).toEqual([...interpolatedNames(composeText), 'COMPOSE_PROFILES'].sort());
  });

  it('"Set by docker-compose.yml itself" is exactly what compose sets for api/worker without reading .env, with its values', () => {
    const fixed = [...passed].filter(([name, value]) => !interpolatedNames(value).has(name));
    expect(names(SET)).toEqual(fixed.map(([name]) => name).sort());
    const defaults = envObject(example.filter((e) => e.section === READ));
    for (const entry of example.filter((e) => e.section === SET)) {
      expect(entry.value, entry.name).toBe(interpolate(passed.get(entry.name)!, defaults));
    }
  });

  it('"Not used by docker-compose.yml" is every other setting of the config schema', () => {
    expect(names(UNUSED)).toEqual(CONFIG_KEYS.filter((k) => !passed.has(k)).sort());
    // ...so every setting the schema reads is documented somewhere in the file.
    expect(CONFIG_KEYS.filter((k) => !example.some((e) => e.name === k))).toEqual([]);
  });
});

describe('ops/install.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baas-install-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const install = (file: string, ...args: string[]) =>
    spawnSync('ops/install.sh', ['--env-file', join(dir, file), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  const written = (file: string) => envObject(parseEnvFile(readFileSync(join(dir, file), 'utf8')));
  /** What the api container's configuration becomes with this .env (compose interpolation, then parseConfig). */
  const apiConfig = (env: Record<string, string>) => parseConfig(containerEnv(compose.services.api!, env));

  it('writes a .env (mode 600) with fresh secrets that the api configuration accepts', () => {
    const run = install('local.env');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(statSync(join(dir, 'local.env')).mode & 0o777).toBe(0o600);
    const env = written('local.env');
    const secrets = ['JWT_SECRET', 'SERVICE_API_KEY', 'FUNCTIONS_SECRET_KEY', 'POSTGRES_PASSWORD', 'S3_SECRET_KEY'].map((n) => env[n]!);
    for (const secret of secrets) expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
    expect(env.COMPOSE_PROFILES).toBe('minio,mailpit');

    const config = apiConfig(env);
    expect(config.NODE_ENV).toBe('production');
    expect(config.PUBLIC_URL).toBe('http://localhost:3000');
    expect(config.S3_PUBLIC_ENDPOINT).toBe('http://localhost:3000');
    expect(config.S3_ENDPOINT).toBe('http://minio:9000');
    expect(config.DATABASE_URL).toBe(`postgresql://baas:${env.POSTGRES_PASSWORD}@postgres:5432/baas`);
    expect(config.FUNCTIONS_SECRET_KEY).toBe(env.FUNCTIONS_SECRET_KEY);

    // A second install into the same file would throw its secrets away.
    const again = install('local.env');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists/);
    expect(written('local.env').JWT_SECRET).toBe(env.JWT_SECRET);
  });

  it('--domain makes the public URLs and the presigned URLs https://<domain>, on ports 80 and 443', () => {
    const run = install('prod.env', '--domain', 'baas.example.com', '--s3', 'seaweedfs', '--smtp-host', 'smtp.example.com', '--smtp-pass', 'p@ss "w$rd', '--mail-from', 'App <no-reply@example.com>');
    expect(run.status, run.stderr).toBe(0);
    const env = written('prod.env');
    expect(env).toMatchObject({ DOMAIN: 'baas.example.com', HTTP_PORT: '80', HTTPS_PORT: '443', COMPOSE_PROFILES: 'seaweedfs' });
    const config = apiConfig(env);
    expect(config.PUBLIC_URL).toBe('https://baas.example.com');
    expect(config.APP_URL).toBe('https://baas.example.com');
    expect(config.S3_PUBLIC_ENDPOINT).toBe('https://baas.example.com');
    expect(config.S3_ENDPOINT).toBe('http://seaweedfs:8333');
    expect(config.SMTP_HOST).toBe('smtp.example.com');
    expect(config.SMTP_PASS).toBe('p@ss "w$rd');
    expect(config.MAIL_FROM).toBe('App <no-reply@example.com>');
    expect(interpolate(compose.services.proxy!.environment!.SITE_ADDRESS as string, env)).toBe('baas.example.com');
    expect(interpolate(compose.services.proxy!.environment!.S3_UPSTREAM as string, env)).toBe('seaweedfs:8333');
  });

  it('refuses a domain with a scheme, and unknown options', () => {
    expect(install('bad.env', '--domain', 'https://baas.example.com').status).toBe(1);
    expect(install('bad.env', '--s3', 'garage').status).toBe(1);
    expect(install('bad.env', '--nope').status).toBe(1);
    expect(() => statSync(join(dir, 'bad.env'))).toThrow();
  });
});

describe('ops/ scripts', () => {
  const scripts = ['install', 'lib', 'backup', 'restore', 'upgrade', 'scale', 'rotate-secrets', 'collect-logs'].map((s) => `ops/${s}.sh`);

  it('parse as bash', () => {
    for (const script of scripts) expect(spawnSync('bash', ['-n', script], { encoding: 'utf8' }).stderr, script).toBe('');
  });

  it.skipIf(spawnSync('sh', ['-c', 'command -v shellcheck']).status !== 0)('are clean for shellcheck', () => {
    const run = spawnSync('shellcheck', ['-x', ...scripts], { encoding: 'utf8' });
    expect(run.stdout).toBe('');
    expect(run.status).toBe(0);
  });
});
