import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { AppException, forbidden, validationFailed } from '../common/app-exception.js';
import { originMatcher } from '../gateway/cors.js';
import { toErrorBody } from '../common/error-response.js';
import { CLOSE, EVENT_ID } from './realtime.protocol.js';
import { type Connection, RealtimeService, type Transport } from './realtime.service.js';

export const REALTIME_PATH = '/v1/realtime';
export const REALTIME_SSE_PATH = '/v1/realtime/sse';

/** Query of the SSE fallback: one subscription per stream. */
const sseQuery = z.strictObject({
  collection: z.string().min(1).max(64).optional(),
  /** Files of a bucket instead of a collection's documents. */
  bucket: z.string().min(1).max(64).optional(),
  filter: z.string().max(8192).optional(),
  id: z.string().max(64).optional(),
  fields: z.string().max(4096).optional(),
  since: z.string().regex(EVENT_ID, 'must be an event id such as 1764415123456-0').optional(),
  /** For EventSource, which cannot send headers. Prefer the Authorization header. */
  access_token: z.string().min(1).max(4096).optional(),
}).refine((q) => (q.collection === undefined) !== (q.bucket === undefined), { message: 'name either a collection or a bucket', path: ['collection'] });

function wsTransport(socket: WebSocket): Transport {
  let alive = true;
  socket.on('pong', () => (alive = true));
  return {
    refreshable: true,
    send: (text) => socket.send(text),
    buffered: () => socket.bufferedAmount,
    close: (code, reason) => {
      socket.close(code, reason);
      // A client that does not read never answers the close: drop it after a while.
      setTimeout(() => socket.terminate(), 5000).unref();
    },
    heartbeat: () => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    },
  };
}

/** The SSE stream of a reply; writes nothing until `start` (a refused request answers plain JSON instead). */
function sseTransport(reply: FastifyReply): Transport & { start(headers: Record<string, string>): void } {
  const raw = reply.raw;
  let started = false;
  return {
    refreshable: false,
    start: (headers) => {
      reply.hijack();
      raw.writeHead(200, headers);
      started = true;
    },
    send: (text) => {
      if (!started) return;
      const frame = JSON.parse(text) as { type: string; id?: string };
      raw.write(`${frame.type === 'event' && frame.id ? `id: ${frame.id}\n` : ''}event: ${frame.type}\ndata: ${text}\n\n`);
    },
    buffered: () => (started ? raw.writableLength : 0),
    close: (_code, reason) => {
      if (!started) return;
      if (!raw.writableEnded) raw.end(`event: close\ndata: ${JSON.stringify({ type: 'close', reason })}\n\n`);
      setTimeout(() => raw.destroy(), 5000).unref();
    },
    heartbeat: () => {
      if (started) raw.write(': ping\n\n');
    },
  };
}

/**
 * The realtime endpoints, plain Fastify routes (like the metrics): `GET /v1/realtime` is the
 * WebSocket (@fastify/websocket), `GET /v1/realtime/sse` the Server-Sent Events fallback.
 * The protocol and its rules live in RealtimeService.
 */
@Injectable()
export class RealtimeRoutes {
  constructor(
    private readonly realtime: RealtimeService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  register(fastify: FastifyInstance): void {
    if (!this.config.REALTIME_ENABLED) return;
    // Browsers do not apply CORS to WebSockets: with an origin list, the upgrade checks the
    // page's Origin itself (requests without one, from servers and apps, pass).
    const allowed = originMatcher(this.config.CORS_ORIGINS);
    const checkOrigin = async (request: FastifyRequest, reply: FastifyReply) => {
      const origin = request.headers.origin;
      if (origin === undefined || allowed(origin)) return;
      const { body } = toErrorBody(forbidden('This origin may not open realtime connections (CORS_ORIGINS)'), request.id);
      return reply.code(403).send(body);
    };
    fastify.get(REALTIME_PATH, { websocket: true, preValidation: checkOrigin }, (socket, request) => this.websocket(socket, request));
    fastify.get(REALTIME_SSE_PATH, (request, reply) => this.sse(request, reply));
  }

  private websocket(socket: WebSocket, request: FastifyRequest): void {
    const conn = this.realtime.open(wsTransport(socket));
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        conn.error({ code: 'BAD_FRAME', message: 'Frames must be JSON text' });
        return;
      }
      this.realtime.receive(conn, Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    });
    socket.on('close', () => conn.close(1000, 'closed by the client'));
    socket.on('error', () => conn.close(1011, 'socket error'));
    this.realtime.welcome(conn);
    // Credentials in the upgrade request's headers (servers, Node): as an auth frame would.
    const { authorization } = request.headers;
    const apiKey = request.headers['x-api-key'];
    if (authorization !== undefined || apiKey !== undefined) {
      conn.enqueue(() =>
        this.realtime.authenticate(conn, typeof apiKey === 'string' ? apiKey : undefined, authorization).catch((err: unknown) => this.refuse(conn, err)),
      );
    }
  }

  private refuse(conn: Connection, err: unknown): void {
    if (err instanceof AppException) {
      if (!conn.closed) conn.error(err);
      if (err.code === 'CONNECTION_LIMIT') conn.close(CLOSE.tooManyConnections, 'too many connections');
      else conn.close(CLOSE.unauthorized, 'invalid credentials');
    }
  }

  private async sse(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      const parsed = sseQuery.safeParse(request.query);
      if (!parsed.success) {
        const details = parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
        throw validationFailed('The query is not valid', details);
      }
      const q = parsed.data;
      const lastEventId = request.headers['last-event-id'];
      const since = q.since ?? (typeof lastEventId === 'string' && EVENT_ID.test(lastEventId) ? lastEventId : undefined);
      const authorization = request.headers.authorization ?? (q.access_token ? `Bearer ${q.access_token}` : undefined);
      const apiKey = request.headers['x-api-key'];
      const transport = sseTransport(reply);
      const conn = this.realtime.open(transport);
      let spec;
      try {
        if (authorization !== undefined || apiKey !== undefined) await this.realtime.authenticate(conn, typeof apiKey === 'string' ? apiKey : undefined, authorization);
        if (q.bucket !== undefined && (q.filter ?? q.id ?? q.fields) !== undefined) {
          throw validationFailed('bucket streams take no filter, id or fields', [{ path: 'bucket', message: 'takes no filter, id or fields' }]);
        }
        spec = await this.realtime.check(conn.caller, { collection: q.collection, bucket: q.bucket, filter: q.filter, id: q.id, fields: q.fields?.split(',') });
      } catch (err) {
        conn.close(1000, 'refused');
        throw err;
      }
      transport.start({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
        ...corsHeaders(reply),
      });
      // The response's close: the client went away (or the stream was ended here).
      reply.raw.on('close', () => conn.close(1000, 'closed by the client'));
      this.realtime.welcome(conn);
      conn.enqueue(() => this.realtime.add(conn, 'sse', spec, since));
    } catch (err) {
      const error = err instanceof AppException ? err : new AppException(500, 'INTERNAL_ERROR', 'An unexpected error occurred');
      if (reply.sent) return;
      const { body } = toErrorBody(error, request.id);
      await reply.code(body.statusCode).send(body);
    }
  }
}

/** The CORS headers @fastify/cors put on the reply before it was hijacked. */
function corsHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (name.startsWith('access-control-') || name === 'vary') out[name] = String(value);
  }
  return out;
}
