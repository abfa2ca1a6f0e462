import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../apps/api/src/app.factory.js';
import { renderApiDocs } from '../../scripts/api-docs.js';
import { testConfig } from '../support/config.js';

describe('docs/openapi.json, docs/api.md and the SDK types', () => {
  it('match the running api (regenerate with `npm run docs:api`)', async () => {
    // The committed document names the default PUBLIC_URL as its server.
    const app = await createApp(testConfig({ PUBLIC_URL: 'http://localhost:3000' }));
    try {
      const files = await renderApiDocs(app);
      expect(Object.keys(files)).toHaveLength(3);
      for (const [path, text] of Object.entries(files)) {
        const committed = await readFile(path, 'utf8').catch(() => '(missing)');
        if (path.endsWith('.json')) expect(JSON.parse(committed), path).toEqual(JSON.parse(text));
        else expect(committed, `${path} is stale: run npm run docs:api`).toBe(text);
      }
    } finally {
      await app.close();
    }
  });
});
