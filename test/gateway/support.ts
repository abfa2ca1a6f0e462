import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The bytes as sent (not decompressed). */
  body: Buffer;
}

/** The app listening on 127.0.0.1 (any free port); returns its port. */
export async function listen(app: NestFastifyApplication): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  return address.port;
}

/** One request over a real socket, bytes untouched (supertest would decompress). */
export function rawRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string; agent?: Agent },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface Drip {
  /** Resolves when the server closed the connection, with the payload bytes sent by then. */
  closed: Promise<{ sent: number; received: string }>;
  socket: Socket;
}

/**
 * A slow client: sends `head` at once, then one byte of `rest` every `everyMs` (stopping
 * after `max` bytes, then staying silent), and records when the server closes the socket.
 */
export function drip(port: number, head: string, rest: string, everyMs: number, max: number): Drip {
  const socket = connect(port, '127.0.0.1');
  let sent = 0;
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  socket.on('error', () => undefined);
  socket.write(head);
  const timer = setInterval(() => {
    if (sent >= max || sent >= rest.length || socket.destroyed) return;
    socket.write(rest[sent]!);
    sent += 1;
  }, everyMs);
  const closed = new Promise<{ sent: number; received: string }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ sent, received });
    }),
  );
  return { closed, socket };
}
