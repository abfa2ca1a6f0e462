/**
 * What the gateway needs to know about each route, decided from its method and pattern in
 * one table, so a new route falls into the right class without a decorator: its rate-limit
 * group, which kind of body it takes, and whether its responses may be compressed.
 */

export type RateGroup = 'reads' | 'writes' | 'uploads' | 'invokes' | 'auth';

/**
 * `json`: a JSON body or none; `multipart`: form-data upload; `raw`: arbitrary bytes, streamed;
 * `form`: an `application/x-www-form-urlencoded` body (only a provider's form_post callback).
 */
export type BodyKind = 'json' | 'multipart' | 'raw' | 'form';

export interface RouteClass {
  /** null: never rate limited (health probes, metrics, CORS preflights). */
  group: RateGroup | null;
  body: BodyKind;
  /** false for file bytes: served as stored, with Range, never re-encoded. */
  compress: boolean;
}

const UNLIMITED = /^\/v1\/(health\/|metrics$)/;
const UPLOADS: readonly [string, string][] = [
  ['POST', '/v1/storage/buckets/:bucket/files'],
  ['POST', '/v1/storage/buckets/:bucket/upload-url'],
  ['POST', '/v1/storage/files/:id/complete'],
  ['PUT', '/v1/storage/signed'],
  ['POST', '/v1/admin/transfer/buckets/:bucket/files'],
];
const MULTIPART = new Set(['/v1/storage/buckets/:bucket/files', '/v1/admin/transfer/buckets/:bucket/files']);
/** OAuth providers answering with response_mode=form_post (Apple) POST a form here. */
const FORM = new Set(['/v1/auth/oauth/:provider/callback']);
const FILE_BYTES = new Set(['/v1/storage/files/:id/content', '/v1/storage/signed']);

function groupOf(method: string, url: string | undefined): RateGroup | null {
  if (method === 'OPTIONS') return null;
  if (url !== undefined) {
    if (UNLIMITED.test(url)) return null;
    if (url.startsWith('/v1/auth/')) return 'auth';
    if (method === 'POST' && url === '/v1/functions/:name/invoke') return 'invokes';
    if (UPLOADS.some(([m, u]) => m === method && u === url)) return 'uploads';
  }
  // Unmatched URLs (404s) count too, as reads or writes, so scanning costs the scanner.
  return method === 'GET' || method === 'HEAD' ? 'reads' : 'writes';
}

/** The class of a route, by HTTP method and route pattern (undefined when no route matched). */
export function classifyRoute(method: string, url: string | undefined): RouteClass {
  let body: BodyKind = 'json';
  if (method === 'POST' && url !== undefined && MULTIPART.has(url)) body = 'multipart';
  if (method === 'PUT' && url === '/v1/storage/signed') body = 'raw';
  if (method === 'POST' && url !== undefined && FORM.has(url)) body = 'form';
  const fileBytes = (method === 'GET' || method === 'HEAD') && url !== undefined && FILE_BYTES.has(url);
  return { group: groupOf(method, url), body, compress: !fileBytes };
}
