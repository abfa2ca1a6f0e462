import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { BaasError, createClient, NetworkError } from '../../packages/sdk/src/index.js';

/**
 * The client's error and retry rules, against a scripted HTTP server on loopback (the real
 * api cannot be told to answer 503 or drop a connection on cue). The api's own error
 * answers are exercised by the other SDK tests against the real server.
 */
type Step = (req: IncomingMessage, res: ServerResponse) => void;
const error = (status: number, code: string, headers: Record<string, string> = {}): Step => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'rid-1', ...headers });
  res.end(JSON.stringify({ statusCode: status, code, message: `${code} happened`, requestId: 'rid-1' }));
};
const ok: Step = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[],"nextCursor":null}');
const drop: Step = (req) => req.socket.destroy();

let server: Server | undefined;
afterEach(async () => {
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  server = undefined;
});

async function scripted(steps: Step[]): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    (steps.shift() ?? ok)(req, res);
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, seen };
}

const fast = { retries: 2, baseDelayMs: 5, maxDelayMs: 2_000 };

describe('SDK errors and retries', () => {
  it('retries a GET after 503 and 429, waiting as long as Retry-After says', async () => {
    const { url, seen } = await scripted([error(503, 'SERVICE_UNAVAILABLE', { 'retry-after': '1' }), error(429, 'RATE_LIMITED'), ok]);
    const client = createClient({ url, retry: fast });
    const started = Date.now();
    await expect(client.collection('posts').list()).resolves.toEqual({ items: [], nextCursor: null });
    expect(seen).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950); // the server asked for one second
  });

  it('gives up after the configured retries with the last BaasError, retryAfter included', async () => {
    const { url, seen } = await scripted([0, 1, 2].map(() => error(503, 'SERVICE_UNAVAILABLE', { 'retry-after': '0' })));
    const err = await createClient({ url, retry: fast })
      .collection('posts')
      .get('x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaasError);
    expect(err).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', requestId: 'rid-1', retryAfter: 0, message: 'SERVICE_UNAVAILABLE happened' });
    expect(seen).toHaveLength(3);
  });

  it('never retries a write: a POST answered 429 or cut off fails at once', async () => {
    const limited = await scripted([error(429, 'RATE_LIMITED', { 'retry-after': '7' })]);
    await expect(createClient({ url: limited.url, retry: fast }).collection('posts').create({ a: 1 })).rejects.toMatchObject({
      statusCode: 429,
      code: 'RATE_LIMITED',
      retryAfter: 7,
    });
    expect(limited.seen).toEqual(['POST /v1/collections/posts/documents']);
    await new Promise((done) => server!.close(done));

    const cut = await scripted([drop, drop, drop]);
    await expect(createClient({ url: cut.url, retry: fast }).functions.invoke('f', {})).rejects.toBeInstanceOf(NetworkError);
    expect(cut.seen).toHaveLength(1);
  });

  it('retries a GET whose connection was cut, then reports a NetworkError (not a BaasError)', async () => {
    const { url, seen } = await scripted([drop, drop, drop, drop]);
    const err = await createClient({ url, retry: fast })
      .storage.info('id')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).not.toBeInstanceOf(BaasError);
    expect(seen).toHaveLength(3);
  });

  it('an answer without the api’s error body (a proxy’s 502) is a BaasError HTTP_502', async () => {
    const { url } = await scripted([(_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>')]);
    await expect(createClient({ url, retry: { retries: 0 } }).auth.signInWithPassword({ email: 'a@b.c', password: 'x' })).rejects.toMatchObject({
      statusCode: 502,
      code: 'HTTP_502',
    });
  });

  it('an aborted request is a NetworkError and is not retried', async () => {
    const { url, seen } = await scripted([(_req, res) => setTimeout(() => ok(_req, res), 2_000)]);
    const controller = new AbortController();
    const pending = createClient({ url, retry: fast }).collection('posts').list({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(NetworkError);
    expect(seen).toHaveLength(1);
  });
});
