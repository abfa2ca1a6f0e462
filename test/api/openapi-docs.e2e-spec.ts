import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../apps/api/src/app.factory.js';
import { buildOpenApiDocument, renderApiMarkdown } from '../../apps/api/src/openapi.js';
import { testConfig } from '../support/config.js';

describe('docs/openapi.json and docs/api.md', () => {
  it('match the running api (regenerate with `npm run docs:api`)', async () => {
    const app = await createApp(testConfig());
    try {
      const doc = buildOpenApiDocument(app);
      const committed = JSON.parse(await readFile('docs/openapi.json', 'utf8')) as unknown;
      expect(committed).toEqual(JSON.parse(JSON.stringify(doc)));
      expect(await readFile('docs/api.md', 'utf8')).toBe(renderApiMarkdown(doc));
    } finally {
      await app.close();
    }
  });
});
