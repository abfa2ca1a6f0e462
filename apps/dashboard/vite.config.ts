import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The admin dashboard: built by `npm run build` into dist/dashboard, which the api serves at
 * /admin. `npm run dashboard:dev` serves it with hot reload and proxies /v1 to a local api.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/admin/',
  plugins: [react()],
  // The SDK from source (packages/sdk), so the dashboard always matches this checkout.
  resolve: { alias: { '@selfbaas/sdk': resolve(import.meta.dirname, '../../packages/sdk/src/index.ts') } },
  build: {
    outDir: resolve(import.meta.dirname, '../../dist/dashboard'),
    emptyOutDir: true,
    target: 'es2022',
    // CodeMirror is its own chunk, loaded by the function editor page only.
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { '/v1': process.env.API_URL ?? 'http://127.0.0.1:3000' } },
});
