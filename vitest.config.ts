import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC compiles the tests and the code under test: it emits the decorator metadata Nest's
// dependency injection needs (esbuild does not). `#libs/x` resolves to the lib's source.
// Both projects extend this root config.
const RUNTIME_IMAGE_TEST = 'test/self-hosting/runtime-image.e2e-spec.ts';

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [{ find: /^#libs\/([a-z-]+)$/, replacement: resolve(import.meta.dirname, 'libs/$1/src/index.ts') }],
  },
  test: {
    // 2 cores: two test files at a time keeps Postgres, Redis and the CPU from thrashing.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts', 'packages/cli/src/**/*.spec.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          exclude: [RUNTIME_IMAGE_TEST],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Compiles the project and installs its production dependencies (minutes of both
        // cores): it runs alone, after the other projects, so it slows no timing-sensitive test.
        extends: true,
        test: {
          name: 'image',
          include: [RUNTIME_IMAGE_TEST],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
