import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseConfig } from '#libs/config';
import { createApp } from '../apps/api/src/app.factory.js';
import { renderApiDocs } from './api-docs.js';

// `npm run docs:api`: writes docs/openapi.json, docs/api.md and the SDK's generated types from
// the api's controllers. The app is built but never listens; no database query is made.
const app = await createApp(parseConfig({ LOG_LEVEL: 'silent' }));
const files = await renderApiDocs(app);
await app.close();
for (const [path, text] of Object.entries(files)) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
process.stdout.write(`${Object.keys(files).join(', ')} written\n`);
