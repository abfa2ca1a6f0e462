import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '#libs/config';
import { type ComposeService, readCompose, readText } from './compose-files.js';

/**
 * Lint of docker-compose.yml, ops/Caddyfile and the Dockerfile: what can be checked without
 * a Docker engine (docs/self-hosting.md says what cannot).
 */
const compose = readCompose();
const services = Object.entries(compose.services);
const dockerfile = readText('Dockerfile');
const caddyfile = readText('ops/Caddyfile');
const version = (JSON.parse(readText('package.json')) as { version: string }).version;

// Upstreams that number releases major.minor (PostgreSQL 16.15, SeaweedFS 4.47): that is exact.
const TWO_PART_VERSIONS = new Set(['postgres', 'chrislusf/seaweedfs']);

/** Why `image` is not pinned to one exact release, or null when it is. */
export function pinProblem(image: string): string | null {
  const [ref, digest] = image.split('@') as [string, string | undefined];
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) return `malformed digest ${digest}`;
  const colon = ref.lastIndexOf(':');
  if (colon <= ref.lastIndexOf('/')) return 'no tag (pulls latest)';
  const repository = ref.slice(0, colon);
  const tag = ref.slice(colon + 1);
  if (tag === 'latest') return 'tag latest';
  if (/^RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$/.test(tag)) return null; // MinIO's release names
  // A variant suffix (-alpine3.24, -bookworm-slim) is fine after an exact version.
  if (/^v?\d+\.\d+\.\d+(-[A-Za-z0-9.-]+)?$/.test(tag)) return null;
  if (TWO_PART_VERSIONS.has(repository) && /^\d+\.\d+(-[A-Za-z0-9.-]+)?$/.test(tag)) return null;
  return `tag ${tag} names no exact release (it moves)`;
}

/** The Dockerfile's FROM images, with `${ARG}` replaced by the ARG's default; stage names left out. */
function dockerfileImages(): string[] {
  const args = new Map([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const stages = new Set<string>();
  const images: string[] = [];
  for (const [, from, stage] of dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gim)) {
    const image = from!.replace(/\$\{(\w+)\}/g, (_m, name: string) => args.get(name) ?? `<unset ${name}>`);
    if (!stages.has(image)) images.push(image);
    if (stage) stages.add(stage);
  }
  return images;
}

const isApp = (service: ComposeService) => service.build !== undefined;
const isOneShot = (service: ComposeService) => service.restart === 'no';

describe('docker-compose.yml and Dockerfile', () => {
  it('the pin rule rejects floating references', () => {
    for (const floating of ['minio/minio', 'axllent/mailpit:latest', 'postgres:16-alpine', 'redis:7', 'node:24-bookworm-slim', 'caddy:2.11', 'x:1.2.3@sha256:abc']) {
      expect(pinProblem(floating), floating).not.toBeNull();
    }
    for (const exact of ['postgres:16.15-alpine3.24', 'caddy:2.11.4-alpine', 'axllent/mailpit:v1.31.1', `quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z@sha256:${'a'.repeat(64)}`]) {
      expect(pinProblem(exact), exact).toBeNull();
    }
  });

  it('pins every image, in compose and in the Dockerfile, to an exact release', () => {
    const images = [...services.filter(([, s]) => !isApp(s)).map(([name, s]) => [name, s.image ?? '<no image>']), ...dockerfileImages().map((i) => ['Dockerfile', i])];
    expect(images.length).toBeGreaterThanOrEqual(8);
    const problems = images.map(([where, image]) => [where, image, pinProblem(image!)]).filter(([, , problem]) => problem !== null);
    expect(problems).toEqual([]);
  });

  it('takes MinIO and its client from quay.io, pinned by digest (Docker Hub no longer serves them)', () => {
    for (const name of ['minio', 'mc']) {
      expect(compose.services[name]?.image).toMatch(new RegExp(`^quay\\.io/minio/${name}:RELEASE\\.[^@]+@sha256:[0-9a-f]{64}$`));
    }
  });

  it('builds api and worker from this Dockerfile as selfbaas:<package.json version>', () => {
    const apps = services.filter(([, s]) => isApp(s));
    expect(apps.map(([name]) => name).sort()).toEqual(['api', 'worker']);
    for (const [, service] of apps) expect(service.image).toBe(`selfbaas:${version}`);
  });

  it('passes api and worker only settings the config schema reads', () => {
    for (const name of ['api', 'worker']) {
      const unknown = Object.keys(compose.services[name]!.environment ?? {}).filter((key) => !CONFIG_KEYS.includes(key));
      expect(unknown, name).toEqual([]);
    }
  });

  it('gives the proxy exactly the variables its Caddyfile reads', () => {
    const used = [...caddyfile.matchAll(/\{\$([A-Z_][A-Z0-9_]*)(:[^}]*)?\}/g)];
    const required = new Set(used.filter((m) => m[2] === undefined).map((m) => m[1]!));
    const all = new Set(used.map((m) => m[1]!));
    const passed = new Set(Object.keys(compose.services.proxy!.environment ?? {}));
    expect([...required].filter((n) => !passed.has(n))).toEqual([]);
    expect([...passed].filter((n) => !all.has(n))).toEqual([]);
  });

  it('checks the health of every long-running service', () => {
    const missing = services.filter(([, s]) => !isOneShot(s) && !(s.healthcheck?.test && s.healthcheck.test.length > 0)).map(([n]) => n);
    expect(missing).toEqual([]);
  });

  it('keeps the data of every stateful service in a named volume, and api/worker stateless', () => {
    // Where each image keeps its state; a new service must be added here, stateful or not.
    const dataDirs: Record<string, string | null> = {
      postgres: '/var/lib/postgresql/data',
      redis: '/data',
      'quay.io/minio/minio': '/data',
      'chrislusf/seaweedfs': '/data',
      caddy: '/data',
      'axllent/mailpit': '/data',
      'quay.io/minio/mc': null, // a client: writes only into the mounted ./backups
    };
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, service] of services) {
      if (isApp(service)) {
        expect(service.volumes ?? [], name).toEqual([]);
        continue;
      }
      const repository = service.image!.split('@')[0]!.replace(/:[^:/]+$/, '');
      expect(Object.keys(dataDirs), `${name}: is ${repository} stateful?`).toContain(repository);
      const dir = dataDirs[repository];
      if (dir === null) continue;
      const mount = (service.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === dir);
      expect(mount, `${name} has no volume at ${dir}`).toBeDefined();
      expect(declared.has(mount![0]!), `${name}: ${mount![0]} is not a named volume`).toBe(true);
    }
  });

  it('publishes no api or worker port (so both scale), and only the proxy on all interfaces', () => {
    for (const [name, service] of services) {
      if (isApp(service)) expect(service.ports ?? [], name).toEqual([]);
      else if (name !== 'proxy') for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
    expect(compose.services.proxy!.ports).toEqual(expect.arrayContaining(['${HTTP_PORT:-3000}:80', '${HTTPS_PORT:-3443}:443']));
  });

  it('routes the bucket path to S3 with path and Host unchanged, everything else to the api', () => {
    expect(caddyfile).toMatch(/@s3 path \/\{\$S3_BUCKET\}\/\*\n\s*handle @s3 \{\n\s*reverse_proxy \{\$S3_UPSTREAM\}/);
    // Rewriting the path or the Host header would break every presigned URL's signature.
    expect(caddyfile).not.toMatch(/strip_prefix|uri |rewrite|header_up\s+Host/);
    expect(caddyfile).toMatch(/dynamic a \{\n\s*name \{\$API_HOST:api\}\n\s*port \{\$API_PORT:3000\}/);
    // The api and the dashboard paths must never be taken by the bucket.
    expect(['v1', 'admin']).not.toContain(compose.services.proxy!.environment!.S3_BUCKET);
  });

  it('builds the runtime stage from production dependencies only, code owned by root, running as node', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(dockerfile).toMatch(/AS prod-deps\n[\s\S]*npm pkg delete devDependencies\s*\\\n\s*&& npm install --omit=dev --ignore-scripts/);
    expect(runtime).toMatch(/COPY --from=prod-deps \/app\/node_modules \.\/node_modules/);
    expect(runtime).not.toMatch(/--chown/);
    expect(runtime).toMatch(/chown -R node:node \/app\/var\n/);
    expect(runtime).toMatch(/\nUSER node\n/);
  });

  describe('with the tools installed (docker-compose, caddy)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baas-compose-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

    it.skipIf(!has('docker-compose'))('`docker-compose config -q` accepts the file with an installer-written .env', () => {
      const envFile = join(dir, '.env');
      expect(spawnSync('ops/install.sh', ['--env-file', envFile], { encoding: 'utf8' }).status).toBe(0);
      for (const profiles of ['minio,mailpit', 'seaweedfs,tools']) {
        const run = spawnSync('docker-compose', ['--env-file', envFile, 'config', '-q'], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', COMPOSE_PROFILES: profiles },
        });
        expect(run.stderr + run.stdout).toBe('');
        expect(run.status).toBe(0);
      }
    });

    it.skipIf(!has('caddy'))('`caddy validate` accepts the Caddyfile for a domain and for plain HTTP', () => {
      for (const site of ['baas.example.com', ':80']) {
        const run = spawnSync('caddy', ['validate', '--config', 'ops/Caddyfile', '--adapter', 'caddyfile'], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, SITE_ADDRESS: site, S3_BUCKET: 'baas', S3_UPSTREAM: 'minio:9000' },
        });
        expect(run.stderr + run.stdout).toMatch(/Valid configuration/);
        expect(run.status).toBe(0);
      }
    });
  });
});
