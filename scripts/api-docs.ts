import type { INestApplication } from '@nestjs/common';
import openapiTS, { astToString } from 'openapi-typescript';
import { buildOpenApiDocument, renderApiMarkdown } from '../apps/api/src/openapi.js';

/** Where the SDK's generated types live (a source file of packages/sdk, committed). */
export const SDK_TYPES_PATH = 'packages/sdk/src/generated/api.ts';

/**
 * The files `npm run docs:api` writes, from the app's controllers: docs/openapi.json,
 * docs/api.md and the SDK's types (openapi-typescript over the same document). The e2e
 * test `openapi-docs` compares the committed files with these.
 */
export async function renderApiDocs(app: INestApplication): Promise<Record<string, string>> {
  const doc = buildOpenApiDocument(app);
  const json = JSON.stringify(doc, null, 2) + '\n';
  const ast = await openapiTS(JSON.parse(json) as Parameters<typeof openapiTS>[0], { exportType: false, alphabetize: false });
  const types = [
    '/* eslint-disable */',
    '// Generated from docs/openapi.json by `npm run docs:api` (openapi-typescript); do not edit by hand.',
    '',
    astToString(ast),
  ].join('\n');
  return { 'docs/openapi.json': json, 'docs/api.md': renderApiMarkdown(doc), [SDK_TYPES_PATH]: types };
}
