import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchRefused, guardedFetch, isBlockedAddress } from './net-guard.js';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:7f00:1',
    '::ffff:0:127.0.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'fd00::1',
    'fc00::1',
    'ff02::1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '[::1]',
    'localhost',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['1.1.1.1', '8.8.8.8', '172.32.0.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e'])(
    'allows the public address %s',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );
});

describe('guardedFetch', () => {
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    // One server on the whole loopback range: 127.0.0.2 plays a "public" host that redirects.
    server = createServer((req, res) => {
      if (req.url === '/to-private') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/secret` }).end();
      } else if (req.url === '/to-name') {
        res.writeHead(301, { location: `http://localhost:${port}/secret` }).end();
      } else if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
      } else if (req.url === '/big') {
        res.end('x'.repeat(2048));
      } else if (req.url === '/echo') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => res.end(JSON.stringify({ method: req.method, body, ua: req.headers['user-agent'] })));
      } else {
        res.end('secret');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** The real policy, except that 127.0.0.2 counts as public for these tests. */
  const policy = (address: string) => address !== '127.0.0.2' && isBlockedAddress(address);

  it('refuses loopback, link-local and private targets with the real policy', async () => {
    for (const url of [`http://127.0.0.1:${port}/`, 'http://169.254.169.254/latest/meta-data/', 'http://[::1]:1/', `http://localhost:${port}/`]) {
      await expect(guardedFetch(url, {}, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ADDRESS_REFUSED' });
    }
  });

  it('fetches an allowed target, with method and body', async () => {
    const res = await guardedFetch(`http://127.0.0.2:${port}/echo`, { method: 'POST', body: 'hi' }, { timeoutMs: 2000, isBlocked: policy });
    expect(res.status).toBe(200);
    expect(JSON.parse(Buffer.from(res.body).toString())).toEqual({ method: 'POST', body: 'hi', ua: 'baas-functions' });
  });

  it('re-checks every redirect: to a private IP literal and to a name that resolves to loopback', async () => {
    await expect(guardedFetch(`http://127.0.0.2:${port}/to-private`, {}, { timeoutMs: 2000, isBlocked: policy })).rejects.toBeInstanceOf(
      FetchRefused,
    );
    await expect(guardedFetch(`http://127.0.0.2:${port}/to-name`, {}, { timeoutMs: 2000, isBlocked: policy })).rejects.toMatchObject({
      code: 'ADDRESS_REFUSED',
    });
    const manual = await guardedFetch(`http://127.0.0.2:${port}/to-private`, { redirect: 'manual' }, { timeoutMs: 2000, isBlocked: policy });
    expect(manual.status).toBe(302);
  });

  it('bounds redirects, body size and protocols', async () => {
    await expect(guardedFetch(`http://127.0.0.2:${port}/loop`, {}, { timeoutMs: 2000, isBlocked: policy })).rejects.toMatchObject({
      code: 'TOO_MANY_REDIRECTS',
    });
    await expect(
      guardedFetch(`http://127.0.0.2:${port}/big`, {}, { timeoutMs: 2000, isBlocked: policy, maxBodyBytes: 1000 }),
    ).rejects.toMatchObject({ code: 'BODY_TOO_LARGE' });
    await expect(guardedFetch('file:///etc/passwd', {}, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'PROTOCOL_REFUSED' });
  });
});
