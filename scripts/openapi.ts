import { writeFile } from 'node:fs/promises';
import { parseConfig } from '#libs/config';
import { createApp } from '../apps/api/src/app.factory.js';
import { buildOpenApiDocument, renderApiMarkdown } from '../apps/api/src/openapi.js';

// `npm run docs:api`: writes docs/openapi.json and docs/api.md from the api's controllers.
// The app is built but never listens; no database query is made.
const app = await createApp(parseConfig({ LOG_LEVEL: 'silent' }));
const doc = buildOpenApiDocument(app);
await writeFile('docs/openapi.json', JSON.stringify(doc, null, 2) + '\n');
await writeFile('docs/api.md', renderApiMarkdown(doc));
await app.close();
process.stdout.write(`docs/openapi.json and docs/api.md: ${Object.keys(doc.paths).length} paths\n`);
