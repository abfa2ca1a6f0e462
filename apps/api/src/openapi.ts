import type { INestApplication } from '@nestjs/common';
import { CUSTOM_ROUTE_ARGS_METADATA, METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { SIGNED_URL_PATH } from '#libs/storage';
import { ACCESS_KEY, type AccessLevel } from './auth/access.decorator.js';
import { METRICS_PATH } from './metrics/metrics.endpoint.js';
import { ERROR_CODES } from './common/error-codes.js';
import { addRealtimeOperations } from './realtime/realtime.openapi.js';

// The document's object types (@nestjs/swagger does not export them by name).
type PathItemObject = OpenAPIObject['paths'][string];
type OperationObject = NonNullable<PathItemObject['get']>;
type ParameterObject = Extract<NonNullable<OperationObject['parameters']>[number], { in: string }>;
type ResponseObject = Extract<OperationObject['responses'][string], { description: string }>;
type SchemaObject = Exclude<NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string], { $ref: string }>;

const TAGS: { name: string; description: string }[] = [
  { name: 'auth', description: 'Accounts and sessions: sign up, sign in (password, magic link), token refresh, email verification, password reset.' },
  { name: 'admin', description: 'User management and service API keys (admin users and the service key).' },
  { name: 'collections', description: 'Collection definitions: typed fields, indexes and access rules (admin).' },
  { name: 'documents', description: 'Documents of a collection: CRUD, filters, sort, cursor paging, projection, expansion, batches. The collection rules and each document acl decide who may do what.' },
  { name: 'storage', description: 'Buckets and files: streamed and presigned uploads, downloads with Range and ETags, signed URLs.' },
  { name: 'functions', description: 'Serverless functions: deploy, invoke (sync or async), runs with their logs, replays.' },
  { name: 'email', description: 'Transactional email: send, delivery log, templates (admin and the service key).' },
  { name: 'realtime', description: 'Live queries: document events over WebSocket or Server-Sent Events, with the read rules of each subscriber (docs/realtime.md).' },
  { name: 'ops', description: 'Health checks and metrics.' },
];

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Method = (typeof METHODS)[number];

/** Who may call a route, as the OpenAPI document tells it: read from the route's @Access. */
interface RouteAccess {
  access: AccessLevel;
  /** The handler reads the caller (@CurrentCaller): credentials change what a public route does. */
  usesCaller: boolean;
}

/** `AuthController` + `signup` → `authSignup`. */
export function operationIdOf(controllerKey: string, methodKey: string): string {
  const base = controllerKey.replace(/Controller$/, '');
  return base.charAt(0).toLowerCase() + base.slice(1) + methodKey.charAt(0).toUpperCase() + methodKey.slice(1);
}

/** The @Access level of every route handler of the app, by operation id. */
function routeAccess(app: INestApplication): Map<string, RouteAccess> {
  const routes = new Map<string, RouteAccess>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype;
      if (typeof type !== 'function') continue;
      const proto = type.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const access = (Reflect.getMetadata(ACCESS_KEY, handler) ?? Reflect.getMetadata(ACCESS_KEY, type) ?? 'public') as AccessLevel;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, type, name) ?? {}) as Record<string, unknown>;
        const usesCaller = Object.keys(args).some((key) => key.includes(CUSTOM_ROUTE_ARGS_METADATA));
        routes.set(operationIdOf(type.name, name), { access, usesCaller });
      }
    }
  }
  return routes;
}

const BEARER = { bearer: [] };
const SERVICE_KEY = { 'service-key': [] };

function securityOf(route: RouteAccess): Record<string, string[]>[] {
  switch (route.access) {
    case 'service':
      return [SERVICE_KEY];
    case 'user':
    case 'admin':
      return [BEARER, SERVICE_KEY];
    case 'public':
      // Anonymous callers are welcome; a token or key, when sent, is checked and changes what they may see.
      return route.usesCaller ? [{}, BEARER, SERVICE_KEY] : [];
  }
}

const ACCESS_TEXT: Record<AccessLevel, string> = {
  public: 'anyone',
  user: 'a signed-in user or the service key',
  admin: 'an admin user or the service key',
  service: 'the service key only',
};

const errorSchema: SchemaObject = {
  type: 'object',
  description: 'Every error answer has this shape; `code` is stable, `message` is for humans.',
  required: ['statusCode', 'code', 'message', 'requestId'],
  properties: {
    statusCode: { type: 'integer', description: 'the HTTP status, repeated' },
    code: { type: 'string', enum: [...ERROR_CODES] },
    message: { type: 'string' },
    details: {
      type: 'array',
      description: 'what was wrong, e.g. one entry per invalid field',
      items: {
        type: 'object',
        required: ['message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    requestId: { type: 'string', description: 'also in the x-request-id header; quote it when reporting a problem' },
  },
  additionalProperties: false,
};

const errorResponse: ResponseObject = {
  description: 'An error (4xx for a bad request, 5xx when the server or a dependency failed)',
  headers: {
    'x-request-id': { description: 'the id of this request in the server logs', schema: { type: 'string' } },
    'Retry-After': { description: 'on 429 and 503: seconds to wait before trying again', schema: { type: 'integer' } },
  },
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

/**
 * Tidies what zod writes for OpenAPI 3.0: the regular expressions beside `format: uuid /
 * date-time / email` (the format says it), the ±2^53 bounds of every integer, and
 * `allOf` wrappers around a lone `$ref` (zod's way to make a reference optional).
 */
function tidySchemas(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidySchemas);
  if (typeof value !== 'object' || value === null) return value;
  const node = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tidySchemas(v)])) as Record<string, unknown>;
  if (typeof node['format'] === 'string' && ['uuid', 'date-time', 'email'].includes(node['format'])) delete node['pattern'];
  if (node['minimum'] === Number.MIN_SAFE_INTEGER) delete node['minimum'];
  if (node['maximum'] === Number.MAX_SAFE_INTEGER) delete node['maximum'];
  const allOf = node['allOf'];
  if (Array.isArray(allOf) && allOf.length === 1 && Object.keys(node).length === 1) {
    const only = allOf[0] as Record<string, unknown>;
    if (typeof only['$ref'] === 'string' && Object.keys(only).length === 1) return only;
  }
  return node;
}

const binary: SchemaObject = { type: 'string', format: 'binary' };

/** `PUT /v1/storage/signed`: a plain Fastify route (raw streamed body), so no controller describes it. */
const signedUpload: OperationObject = {
  operationId: 'storageSignedUpload',
  tags: ['storage'],
  summary: 'Local-disk driver only: the target of a presigned upload URL (PUT the raw bytes, then POST complete)',
  security: [],
  parameters: [{ name: 'token', in: 'query', required: true, description: 'the signed token of the URL', schema: { type: 'string' } }],
  requestBody: { required: true, content: { '*/*': { schema: binary } } },
  responses: {
    '200': {
      description: 'Stored; finish with POST /v1/storage/files/{id}/complete',
      headers: { ETag: { description: 'the stored object, quoted', schema: { type: 'string' } } },
    },
  },
};

const ETAG = { description: 'the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged', schema: { type: 'string' } };

/** The gateway gives every JSON answer of a GET an ETag and answers 304 to a matching If-None-Match. */
function conditionalGet(op: OperationObject): void {
  const ok = op.responses['200'] as ResponseObject | undefined;
  if (!ok?.content?.['application/json']) return;
  ok.headers = { ETag: ETAG, ...ok.headers };
  op.responses['304'] ??= { description: 'Not modified: If-None-Match names the current ETag', headers: { ETag: ETAG } };
  const params = (op.parameters ??= []);
  if (!params.some((p) => 'in' in p && p.in === 'header' && p.name.toLowerCase() === 'if-none-match')) {
    params.push({ name: 'If-None-Match', in: 'header', required: false, description: 'an ETag from an earlier answer', schema: { type: 'string' } });
  }
}

/** `GET /v1/metrics`: a plain Fastify route (its own token check), so no controller describes it. */
const metrics: OperationObject = {
  operationId: 'metricsScrape',
  tags: ['ops'],
  summary: 'Prometheus metrics (text exposition format)',
  description: 'Access: the bootstrap service key, or `Authorization: Bearer <METRICS_TOKEN>`; anyone with METRICS_PUBLIC=true.',
  security: [SERVICE_KEY, { 'metrics-token': [] }],
  responses: { '200': { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
};

/** A HEAD twin of a GET that streams bytes (Fastify answers HEAD for every GET route). */
function headOf(get: OperationObject): OperationObject {
  const responses: Record<string, ResponseObject> = {};
  for (const [status, response] of Object.entries(get.responses)) {
    const { content: _content, ...rest } = response as ResponseObject;
    responses[status] = rest;
  }
  return {
    ...get,
    operationId: `${get.operationId}Head`,
    summary: `Headers only of: ${get.summary ?? ''}`,
    responses,
  };
}

/**
 * The OpenAPI document of the api, from its controllers and the zod schemas they validate
 * with (named by `.meta({ id })`), completed with what decorators cannot say once per route:
 * security from each route's @Access, the Error answer, readable operation ids, servers,
 * tag descriptions, HEAD on byte-streaming routes and the raw presigned-upload route.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = app.get<AppConfig>(APP_CONFIG);
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('BaaS API')
      .setDescription('Auth, data, storage, functions and email for your apps, on your own servers.')
      .setVersion('1')
      .setLicense('MIT', 'https://opensource.org/license/mit')
      // A variable, since every installation has its own address (its PUBLIC_URL).
      .addServer('{publicUrl}', 'this installation', { publicUrl: { default: config.PUBLIC_URL, description: 'the PUBLIC_URL of the installation' } })
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a user access token from sign-in or refresh' })
      .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key', description: 'a service key: full access, for servers only' }, 'service-key')
      .build(),
    { operationIdFactory: operationIdOf },
  );
  const routes = routeAccess(app);
  doc.tags = TAGS;
  doc.components = {
    ...doc.components,
    schemas: { ...doc.components?.schemas, Error: errorSchema },
    responses: { ...doc.components?.responses, Error: errorResponse },
  };

  const signed = (doc.paths[SIGNED_URL_PATH] ??= {});
  signed.put = signedUpload;
  (doc.paths[METRICS_PATH] ??= {}).get ??= metrics;
  addRealtimeOperations(doc);
  doc.components.securitySchemes = {
    ...doc.components.securitySchemes,
    'metrics-token': { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (GET /v1/metrics only)' },
  };

  for (const item of Object.values(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const route = op.operationId ? routes.get(op.operationId) : undefined;
      if (route) {
        op.security = securityOf(route);
        op.description = [op.description, `Access: ${ACCESS_TEXT[route.access]}.`].filter(Boolean).join('\n\n');
      }
      for (const response of Object.values(op.responses) as ResponseObject[]) {
        if (!response.description) response.description = 'OK';
      }
      op.responses['4XX'] = { $ref: '#/components/responses/Error' };
      op.responses['default'] = { $ref: '#/components/responses/Error' };
    }
    const get = item.get;
    if (get) conditionalGet(get);
    if (get && (Object.values(get.responses) as (ResponseObject | undefined)[]).some((r) => r?.content?.['application/octet-stream'])) {
      item.head = headOf(get);
    }
  }
  return tidySchemas(doc) as OpenAPIObject;
}

/** A short Markdown reference (docs/api.md) generated from the OpenAPI document. */
export function renderApiMarkdown(doc: OpenAPIObject): string {
  const lines = [
    '# API reference',
    '',
    'Generated from the OpenAPI document by `npm run docs:api`; do not edit by hand.',
    'The full document is `docs/openapi.json`; a running api serves it at `/v1/openapi.json`',
    'and an interactive page at `/v1/docs`. The TypeScript SDK (`packages/sdk`, docs/sdk.md) is typed from it.',
    '',
    'Errors always have the shape',
    '`{ "statusCode": 400, "code": "VALIDATION_FAILED", "message": "...", "details": [...], "requestId": "..." }`',
    '(the `Error` schema). Credentials: `Authorization: Bearer <access token>` for users, `x-api-key: <service key>`',
    'for servers; "anyone" routes also accept either and answer according to the caller.',
    '',
    '| method | path | summary | access | success |',
    '|---|---|---|---|---|',
  ];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const access = /Access: ([^.]*)\./.exec(op.description ?? '')?.[1] ?? 'anyone';
      const statuses = Object.entries(op.responses)
        .filter(([status]) => /^\d{3}$/.test(status))
        .map(([status, r]) => {
          const ref = (r as ResponseObject | undefined)?.content?.['application/json']?.schema as { $ref?: string } | undefined;
          return ref?.$ref ? `${status} ${ref.$ref.split('/').pop()}` : status;
        });
      lines.push(`| ${method.toUpperCase()} | \`${path}\` | ${op.summary ?? ''} | ${access} | ${statuses.join(', ')} |`);
    }
  }
  lines.push(
    '',
    '## Error codes',
    '',
    'Codes are stable; clients switch on `code`, never on `message`. Not-found rule: a missing resource named in the',
    'path answers 404 `<RESOURCE>_NOT_FOUND` (`USER_NOT_FOUND`, `SESSION_NOT_FOUND`, `FILE_NOT_FOUND`, `EMAIL_TEMPLATE_NOT_FOUND`, ...),',
    'also when the caller may not see it; plain `NOT_FOUND` only answers a route that does not exist.',
    'A malformed or foreign list cursor answers 400 `INVALID_CURSOR`.',
    '',
    ERROR_CODES.map((c) => `\`${c}\``).join(', '),
  );
  return lines.join('\n') + '\n';
}

/** For tests: every operation of a document, with its method and path. */
export function operationsOf(doc: OpenAPIObject): { method: Method; path: string; op: OperationObject; params: ParameterObject[] }[] {
  const out: { method: Method; path: string; op: OperationObject; params: ParameterObject[] }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) out.push({ method, path, op, params: (op.parameters ?? []) as ParameterObject[] });
    }
  }
  return out;
}
