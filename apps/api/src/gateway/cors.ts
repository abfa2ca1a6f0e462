import type { FastifyCorsOptions } from '@fastify/cors';
import type { AppConfig } from '#libs/config';

/** Request headers browsers may send (the SDK's and the conditional/range ones). */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-request-id',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-range',
];

/** Response headers a page's script may read. */
export const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'etag',
  'last-modified',
  'location',
  'content-range',
  'content-disposition',
  'accept-ranges',
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * One pattern for the CORS_ORIGINS entries: `*` (any; null here), an exact origin
 * (`https://app.example.com`, `http://localhost:5173`), or `*.` for one or more subdomain
 * labels (`https://*.example.com`). An entry without a scheme matches http and https. The
 * wildcard never matches the bare domain itself (list `example.com` for that). Compared
 * case-insensitively.
 */
export function originPattern(entries: readonly string[]): RegExp | null {
  if (entries.includes('*')) return null;
  if (entries.length === 0) return /(?!)/; // nothing allowed
  const alternatives = entries.map((entry) => {
    const lower = entry.toLowerCase().replace(/\/+$/, '');
    const scheme = /^https?:\/\//.test(lower) ? '' : 'https?://';
    const source = lower
      .split('*.')
      .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+');
    return `${scheme}${source}`;
  });
  return new RegExp(`^(?:${alternatives.join('|')})$`, 'i');
}

/** Origins whose decision is remembered (a browser app sends the same few on every request). */
const DECIDED_ORIGINS_MAX = 1000;

/**
 * Whether an Origin is allowed by CORS_ORIGINS entries (see originPattern). Decisions are
 * remembered, up to DECIDED_ORIGINS_MAX origins (then forgotten all at once), so the pattern
 * runs once per origin rather than on every request.
 */
export function originMatcher(entries: readonly string[]): (origin: string) => boolean {
  const pattern = originPattern(entries);
  if (pattern === null) return () => true;
  const decided = new Map<string, boolean>();
  return (origin) => {
    let allowed = decided.get(origin);
    if (allowed === undefined) {
      allowed = pattern.test(origin);
      if (decided.size >= DECIDED_ORIGINS_MAX) decided.clear();
      decided.set(origin, allowed);
    }
    return allowed;
  };
}

/**
 * @fastify/cors options from the configuration. With `*` the answer is `*` (the API uses
 * bearer tokens and keys, never cookies, so no credentials mode); otherwise the request's
 * origin is echoed when it is allowed (with `Vary: Origin`) and omitted when it is not.
 *
 * A refused origin turns CORS off for the request (`false`), so its preflight is the API's
 * 404 rather than a 204 without allow-origin. The list is one precompiled case-insensitive
 * pattern whose decision is remembered per origin (originMatcher), and the header lists are
 * joined once here rather than by the plugin on every request (docs/decisions.md, "Gateway
 * cost").
 */
export function corsOptions(config: AppConfig): FastifyCorsOptions {
  const allowed = config.CORS_ORIGINS.includes('*') ? null : originMatcher(config.CORS_ORIGINS);
  return {
    origin:
      allowed === null
        ? '*'
        : (origin, cb) => {
            cb(null, origin !== undefined && allowed(origin));
          },
    methods: METHODS.join(', '),
    allowedHeaders: CORS_ALLOWED_HEADERS.join(', '),
    exposedHeaders: CORS_EXPOSED_HEADERS.join(', '),
    maxAge: config.CORS_MAX_AGE_SECONDS,
    credentials: false,
    // A bare OPTIONS (no Access-Control-Request-Method) gets the same 204: the plugin's strict
    // mode would answer a text/plain 400 outside the API's error shape.
    strictPreflight: false,
    // Preflights are answered in the onRequest hook, before auth and rate limits.
    hook: 'onRequest',
  };
}
