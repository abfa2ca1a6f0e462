import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTarget, FetchRefused, guardedFetch, ipv6Words, isBlockedAddress, redirectTarget } from './net-guard.js';

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
    // IPv6 forms that carry an IPv4 address, in every spelling (issue 11, #14)
    '::127.0.0.1',
    '[::127.0.0.1]',
    '::7f00:1',
    '0:0:0:0:0:0:7f00:1',
    '::8.8.8.8', // IPv4-compatible (deprecated): refused as a whole
    '::ffff:0:7f00:1',
    '[::ffff:0:127.0.0.1]',
    '0:0:0:0:ffff:0:7f00:1',
    '::ffff:0:a9fe:a9fe',
    '::ffff:10.0.0.1',
    '0000:0000:0000:0000:0000:ffff:127.0.0.1',
    '0:0:0:0:0:FFFF:7F00:0001',
    '::ffff:a9fe:a9fe',
    '::ffff:c0a8:101',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::8.8.8.8', // NAT64 (well-known prefix): refused as a whole
    '64:ff9b:1::7f00:1',
    '2002:7f00:1::1',
    '2002:a9fe:a9fe::',
    '2002:0808:0808::1', // 6to4 of a public address: refused as a whole
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
    '2001:0000:4136:e378:8000:63bf:80ff:fffe',
    'localhost',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '172.32.0.1',
    '93.184.216.34',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82a::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '::ffff:0:8.8.8.8',
  ])(
    'allows the public address %s',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );
});

describe('ipv6Words', () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['::127.0.0.1', [0, 0, 0, 0, 0, 0, 0x7f00, 1]],
    ['::ffff:0:127.0.0.1', [0, 0, 0, 0, 0xffff, 0, 0x7f00, 1]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['fe80::', [0xfe80, 0, 0, 0, 0, 0, 0, 0]],
    ['1::8', [1, 0, 0, 0, 0, 0, 0, 8]],
  ])('%s', (address, words) => {
    expect(ipv6Words(address)).toEqual(words);
  });
});

describe('every IPv4 spelling a URL can carry reaches the same check', () => {
  it.each([
    'http://2130706433/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://017700000001/',
    'http://0x7f000001/',
    'http://[::127.0.0.1]/',
    'http://[::ffff:0:127.0.0.1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://[64:ff9b::127.0.0.1]/',
    'http://[2002:7f00:1::]/',
    'http://0.0.0.0/',
    'http://[::]/',
  ])('%s is refused before any connection', async (url) => {
    await expect(checkTarget(url, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ADDRESS_REFUSED' });
    await expect(guardedFetch(url, {}, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ADDRESS_REFUSED' });
  });
});

describe('redirectTarget', () => {
  const sent = () => ({
    authorization: 'Bearer secret',
    cookie: 'sid=1',
    'proxy-authorization': 'Basic x',
    'x-api-key': 'key',
    'x-custom': 'value',
    accept: 'application/json',
    'content-type': 'application/json',
    'user-agent': 'baas-functions',
  });

  it('keeps every header on a same-origin redirect', () => {
    const headers = sent();
    expect(redirectTarget(new URL('https://a.example/x'), '/y', headers).toString()).toBe('https://a.example/y');
    expect(headers).toEqual(sent());
  });

  it.each(['https://b.example/y', 'https://a.example:8443/y', 'https://sub.a.example/y'])(
    'drops credentials and custom headers when leaving the origin (%s)',
    (location) => {
      const headers = sent();
      redirectTarget(new URL('https://a.example/x'), location, headers);
      expect(headers).toEqual({ accept: 'application/json', 'content-type': 'application/json', 'user-agent': 'baas-functions' });
    },
  );

  it('refuses https → http, and other protocols', () => {
    expect(() => redirectTarget(new URL('https://a.example/x'), 'http://a.example/y', sent())).toThrow(
      expect.objectContaining({ code: 'REDIRECT_DOWNGRADE' }),
    );
    expect(() => redirectTarget(new URL('https://a.example/x'), 'ftp://a.example/y', sent())).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_REFUSED' }),
    );
    expect(redirectTarget(new URL('http://a.example/x'), 'https://a.example/y', {}).protocol).toBe('https:');
  });
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
      } else if (req.url === '/drip') {
        // A byte every 50 ms for 3 s: never idle long enough for a socket timeout.
        res.writeHead(200);
        const drip = setInterval(() => res.write('x'), 50);
        setTimeout(() => (clearInterval(drip), res.end()), 3000);
        res.on('close', () => clearInterval(drip));
      } else if (req.url === '/big') {
        res.end('x'.repeat(2048));
      } else if (req.url === '/to-other-origin') {
        res.writeHead(307, { location: `http://127.0.0.3:${port}/headers` }).end();
      } else if (req.url === '/to-same-origin') {
        res.writeHead(302, { location: '/headers' }).end();
      } else if (req.url === '/headers') {
        res.end(JSON.stringify(req.headers));
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
  const policy = (address: string) => address !== '127.0.0.2' && address !== '127.0.0.3' && isBlockedAddress(address);

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

  it('sends no credential or custom header to another origin after a redirect; the same origin gets them', async () => {
    const headers = { authorization: 'Bearer secret', 'x-api-key': 'k', cookie: 'a=1', 'x-custom': 'c', accept: 'text/plain' };
    const cross = await guardedFetch(`http://127.0.0.2:${port}/to-other-origin`, { headers }, { timeoutMs: 2000, isBlocked: policy });
    expect(cross.url).toBe(`http://127.0.0.3:${port}/headers`);
    const got = JSON.parse(Buffer.from(cross.body).toString()) as Record<string, string>;
    for (const name of ['authorization', 'x-api-key', 'cookie', 'x-custom']) expect(got[name], name).toBeUndefined();
    expect(got.accept).toBe('text/plain');
    const same = await guardedFetch(`http://127.0.0.2:${port}/to-same-origin`, { headers }, { timeoutMs: 2000, isBlocked: policy });
    expect(JSON.parse(Buffer.from(same.body).toString())).toMatchObject({ authorization: 'Bearer secret', 'x-custom': 'c' });
  });

  it('bounds the whole exchange by the deadline, also for a server that drips its answer', async () => {
    const started = Date.now();
    await expect(guardedFetch(`http://127.0.0.2:${port}/drip`, {}, { timeoutMs: 500, isBlocked: policy })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2500);
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
