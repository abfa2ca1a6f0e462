// Bundles the CLI (and the SDK's sources it imports) into one ES module, dist/selfbaas.js.
// Its npm dependencies stay outside the bundle (esbuild has a native binary of its own).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));

await build({
  entryPoints: [join(here, 'src/bin.ts')],
  outfile: join(here, 'dist/selfbaas.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: true,
  external: [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})],
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
