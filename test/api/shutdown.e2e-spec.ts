import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startApi } from '../support/app.js';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then refuses new connections', async () => {
    const app = await startApi();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.getHttpServer().address() as AddressInfo;

    const inFlight = get(port, '/v1/probe/slow?ms=400');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = app.close();

    await expect(inFlight).resolves.toEqual({ status: 200, body: JSON.stringify({ sleptMs: 400 }) });
    await closing;
    await expect(get(port, '/v1/health/live')).rejects.toThrow(/ECONNREFUSED/);
  });
});
