// Bundles the CLI (with the SDK's sources, and for `run` the worker's sandbox and the api's
// compiler) into one ES module, dist/selfbaas.js, and the sandbox host process into
// dist/host.js (SandboxPool starts it from beside itself). npm dependencies stay outside the
// bundle (esbuild, @swc/core and isolated-vm have native binaries).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: true,
  // `#libs/x` resolves to the lib's TypeScript source (the root package.json's imports map).
  conditions: ['source'],
  logLevel: 'warning',
  // @nestjs/* packages are left out (the CLI only constructs the sandbox classes, without Nest's container).
  external: [...external, '@nestjs/*', 'class-validator', 'class-transformer'],
};

// `run` loads the sandbox lazily from its own file, so the other commands start (and work)
// without the optional dependencies it needs.
const lazySandbox = {
  name: 'lazy-sandbox',
  setup(b) {
    b.onResolve({ filter: /\/local-sandbox\.js$/ }, () => ({ path: './local-sandbox.js', external: true }));
  },
};

await build({
  ...common,
  entryPoints: [join(here, 'src/bin.ts')],
  outfile: join(here, 'dist/selfbaas.js'),
  banner: { js: '#!/usr/bin/env node' },
  plugins: [lazySandbox],
});
await build({
  ...common,
  entryPoints: [join(here, 'src/local-sandbox.ts')],
  outfile: join(here, 'dist/local-sandbox.js'),
});
await build({
  ...common,
  entryPoints: [join(here, '../../apps/worker/src/sandbox/host.ts')],
  outfile: join(here, 'dist/host.js'),
});
