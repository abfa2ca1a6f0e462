import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import type { AppConfig } from '#libs/config';
import { AppException, validationFailed } from '../common/app-exception.js';
import { etagMatches } from '../common/conditional.js';
import { toErrorBody } from '../common/error-response.js';
import { findUnsafeJson } from '../common/safe-json.js';
import type { Deferred, GatewayRateLimiter, RateDecision } from './rate-limit.service.js';
import { classifyRoute, type RouteClass } from './routes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set for every route by the gateway's onRoute hook (routes.ts). */
    gateway?: RouteClass;
  }
}

const bodyTimer = Symbol('bodyTimer');
type Timed = FastifyRequest & { [bodyTimer]?: { timer: NodeJS.Timeout; cut: () => void; socket: Socket } };

/** Whether the request announces a body (a length above 0, or chunked). */
export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i;
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

function routeClassOf(request: FastifyRequest): RouteClass {
  return request.routeOptions.config.gateway ?? classifyRoute(request.method, request.routeOptions.url);
}

function refuse(request: FastifyRequest, reply: FastifyReply, error: AppException): void {
  const { body } = toErrorBody(error, request.id);
  if (error.headers) void reply.headers(error.headers);
  void reply.code(body.statusCode).send(body);
}

/** The strong ETag of a response body: sha1 of its bytes, base64url. */
export function etagOf(payload: string | Buffer): string {
  return `"${createHash('sha1').update(payload).digest('base64url')}"`;
}

/**
 * The api's edge, as Fastify hooks over every route (Nest's, the signed-upload route, 404s).
 * Registered after @fastify/cors, so its answers (429, 415) carry CORS headers and
 * preflights never reach it. Per request, in order:
 * - the route group's rate limit (RateLimit-* headers; 429 + Retry-After);
 * - JSON routes refuse a body that is not JSON (415), before anything parses it; the one
 *   form route (form_post callback) refuses anything but a urlencoded form;
 * - body timeouts: a body must arrive within BODY_TIMEOUT_MS (UPLOAD_TIMEOUT_MS for
 *   uploads) and never stall for BODY_IDLE_TIMEOUT_MS, or the connection is cut;
 * - before the handler: a body, query or path parameter holding what safe-json.ts refuses
 *   (`__proto__`, `constructor` or `prototype` keys, nesting too deep, a value Postgres cannot
 *   store) is 400 VALIDATION_FAILED naming the path, on every route, before Nest's guards,
 *   pipes and handlers see it (a validation pipe would silently drop such keys and store the
 *   rest: the client must learn its body was refused). A hook rather than a Nest interceptor:
 *   an api with no interceptor runs its handlers without rxjs (docs/decisions.md);
 * - on send: `connection: close` when answering before the body was read (413, 415, 429 on
 *   an upload), a strong ETag and If-None-Match → 304 on GET answers, and `private,
 *   no-cache` as the default Cache-Control of API answers (they depend on the caller).
 */
export const gatewayPlugin = fp<{ config: AppConfig; limiter: GatewayRateLimiter }>(
  async (fastify: FastifyInstance, { config, limiter }) => {
    // Filled by the rate limiter when it verifies a bearer token (read by the AuthGuard).
    fastify.decorateRequest('verifiedBearer', null);

    /** After the rate limit: media types and body timeouts. */
    const checkBody = (request: FastifyRequest, reply: FastifyReply, route: RouteClass, done: HookHandlerDoneFunction): void => {
      if (!hasBody(request)) return done();
      if (route.body === 'json' && !JSON_TYPE.test(request.headers['content-type'] ?? '')) {
        refuse(request, reply, new AppException(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'));
        return;
      }
      if (route.body === 'form' && !FORM_TYPE.test(request.headers['content-type'] ?? '')) {
        refuse(request, reply, new AppException(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/x-www-form-urlencoded'));
        return;
      }
      armBodyTimeouts(request, route.body === 'json' || route.body === 'form' ? config.BODY_TIMEOUT_MS : config.UPLOAD_TIMEOUT_MS, config.BODY_IDLE_TIMEOUT_MS);
      done();
    };

    /** Headers of a counted request; false (and the 429 sent) when it is over the limit. */
    const applyDecision = (request: FastifyRequest, reply: FastifyReply, decision: RateDecision | null): boolean => {
      if (decision === null) return true;
      setRateLimitHeaders(reply, decision);
      if (decision.allowed) return true;
      const retryAfter = String(decision.resetSeconds);
      refuse(request, reply, new AppException(429, 'RATE_LIMITED', `Too many requests; try again in ${retryAfter} s`, undefined, { 'retry-after': retryAfter }));
      return false;
    };

    // Callback hooks, not async ones: these run on every request, and an async hook costs a
    // promise and a turn of the microtask queue each (docs/decisions.md, "Gateway cost").
    fastify.addHook('onRequest', (request, reply, done) => {
      if (request.method === 'OPTIONS') return done();
      const route = routeClassOf(request);
      if (route.group === null || !limiter.enabled) return checkBody(request, reply, route, done);
      let decision: Deferred<RateDecision | null>;
      try {
        decision = limiter.consume(route.group, request);
      } catch (err) {
        return done(err as Error);
      }
      if (decision instanceof Promise) {
        decision.then(
          (known) => {
            let admitted: boolean;
            try {
              admitted = applyDecision(request, reply, known);
            } catch (err) {
              return done(err as Error);
            }
            if (admitted) checkBody(request, reply, route, done);
          },
          (err: Error) => done(err),
        );
        return;
      }
      if (applyDecision(request, reply, decision)) checkBody(request, reply, route, done);
    });

    fastify.addHook('preHandler', (request, reply, done) => {
      for (const value of [parsedBody(request.body), request.query, request.params]) {
        const issue = findUnsafeJson(value);
        if (issue) {
          refuse(request, reply, validationFailed('The request is not valid', [{ path: issue.path.join('.'), message: issue.message }]));
          return;
        }
      }
      done();
    });

    fastify.addHook('onSend', (request, reply, payload, done) => {
      // Answered before the whole body arrived: the rest would be read as the next request
      // or reset the socket, so this connection ends after the answer.
      if (hasBody(request) && !request.raw.complete) void reply.header('connection', 'close');
      done(null, cacheHeaders(request, reply, payload));
    });

    fastify.addHook('onResponse', (request, _reply, done) => {
      clearBodyTimeouts(request);
      done();
    });
  },
  { name: 'baas-gateway', fastify: '5.x' },
);

/**
 * A body as a JSON or form parser made it; undefined for the raw bytes or stream an upload
 * route takes (a Buffer, a stream), which are file content, not values.
 */
function parsedBody(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const proto: unknown = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null ? body : undefined;
}

/**
 * On GET/HEAD answers: `private, no-cache` unless the handler chose a Cache-Control, a strong
 * ETag, and If-None-Match → 304 (an empty payload). Returns the payload to send.
 */
function cacheHeaders(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (request.method !== 'GET' && request.method !== 'HEAD') return payload;
  if (reply.statusCode !== 200 && reply.statusCode !== 304) return payload;
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'private, no-cache');
  if (reply.statusCode === 304) return payload; // a handler's own 304 (documents.controller.ts)
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
  let etag = reply.getHeader('etag');
  if (typeof etag !== 'string') {
    etag = etagOf(payload);
    void reply.header('etag', etag);
  }
  const ifNoneMatch = request.headers['if-none-match'];
  if (etagMatches(ifNoneMatch, etag)) {
    void reply.code(304).removeHeader('content-type').removeHeader('content-length');
    return '';
  }
  return payload;
}

/**
 * `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy`
 * (`<limit>;w=<window seconds>`).
 */
export function setRateLimitHeaders(reply: FastifyReply, decision: RateDecision): void {
  void reply
    .header('ratelimit-limit', decision.limitHeader)
    .header('ratelimit-remaining', String(decision.remaining))
    .header('ratelimit-reset', String(decision.resetSeconds))
    .header('ratelimit-policy', decision.policyHeader);
}

function armBodyTimeouts(request: Timed, totalMs: number, idleMs: number): void {
  const raw = request.raw;
  const socket = raw.socket;
  const cut = () => {
    request.log.warn({ totalMs, idleMs }, 'request body too slow; connection cut');
    socket.destroy();
  };
  const timer = setTimeout(cut, totalMs);
  timer.unref();
  request[bodyTimer] = { timer, cut, socket };
  socket.setTimeout(idleMs);
  socket.on('timeout', cut);
  const done = () => clearBodyTimeouts(request);
  raw.once('end', done);
  raw.once('close', done);
}

function clearBodyTimeouts(request: Timed): void {
  const armed = request[bodyTimer];
  if (!armed) return;
  clearTimeout(armed.timer);
  request[bodyTimer] = undefined;
  // The socket as it was when armed: a request detaches from it (raw.socket = null) on close.
  const socket = armed.socket;
  socket.removeListener('timeout', armed.cut);
  // Back to no idle limit: a handler may take long (a sync function invoke) without bytes.
  if (!socket.destroyed) socket.setTimeout(0);
}

/**
 * Per-route settings decided once when a route is added: its class (read by the hooks
 * above), a smaller body limit for auth routes, no compression of file bytes, and no
 * decompression of request bodies (a gzip body could expand past every limit).
 */
export function routeSettingsHook(config: AppConfig) {
  return (route: { method: string | string[]; url: string; config?: object; bodyLimit?: number; compress?: false | object; decompress?: false | object }) => {
    const method = Array.isArray(route.method) ? route.method[0]! : route.method;
    const cls = classifyRoute(method, route.url);
    route.config = { ...route.config, gateway: cls };
    if (cls.group === 'auth' && route.bodyLimit === undefined) route.bodyLimit = config.AUTH_BODY_LIMIT_BYTES;
    if (!cls.compress) route.compress = false;
    route.decompress = false;
  };
}
