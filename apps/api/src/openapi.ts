import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** The OpenAPI document of the api, from its controllers and the zod schemas they validate with. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('BaaS API')
      .setDescription('Auth, data, storage, functions and email for your apps, on your own servers.')
      .setVersion('1')
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'service-key')
      .build(),
  );
}

/** A short Markdown reference (docs/api.md) generated from the OpenAPI document. */
export function renderApiMarkdown(doc: OpenAPIObject): string {
  const lines = [
    '# API reference',
    '',
    'Generated from the OpenAPI document by `npm run docs:api`; do not edit by hand.',
    'The full document is `docs/openapi.json`; a running api serves it at `/v1/openapi.json`',
    'and an interactive page at `/v1/docs`.',
    '',
    'Errors always have the shape',
    '`{ "statusCode": 400, "code": "VALIDATION_FAILED", "message": "...", "details": [...], "requestId": "..." }`.',
    '',
    '| method | path | summary |',
    '|---|---|---|',
  ];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item[method];
      if (op) lines.push(`| ${method.toUpperCase()} | \`${path}\` | ${op.summary ?? ''} |`);
    }
  }
  return lines.join('\n') + '\n';
}
