import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '#libs/config';
import { originMatcher, originPattern } from './cors.js';
import { gatewayServerOptions } from './gateway.setup.js';
import { addressBucket } from './rate-limit.service.js';
import { classifyRoute } from './routes.js';

describe('originMatcher', () => {
  it('matches exact origins case-insensitively, ignoring a trailing slash in the entry', () => {
    const allowed = originMatcher(['http://localhost:5173/', 'https://App.example.com']);
    expect(allowed('http://localhost:5173')).toBe(true);
    expect(allowed('https://app.example.com')).toBe(true);
    expect(allowed('http://localhost:5174')).toBe(false);
    expect(allowed('https://localhost:5173')).toBe(false);
    expect(allowed('http://app.example.com')).toBe(false);
  });

  it('a *. wildcard stands for one or more subdomain labels, never the bare domain or a look-alike', () => {
    const allowed = originMatcher(['https://*.example.com']);
    expect(allowed('https://a.example.com')).toBe(true);
    expect(allowed('https://a-b.c.example.com')).toBe(true);
    expect(allowed('https://example.com')).toBe(false);
    expect(allowed('https://aexample.com')).toBe(false);
    expect(allowed('https://a.example.com.evil.test')).toBe(false);
    expect(allowed('https://a.example.company')).toBe(false);
    expect(allowed('https://a_b.example.com')).toBe(false);
    expect(allowed('https://.example.com')).toBe(false);
  });

  it('an entry without a scheme takes http and https; ports must match', () => {
    const allowed = originMatcher(['*.example.com', 'localhost:3001']);
    expect(allowed('http://x.example.com')).toBe(true);
    expect(allowed('https://x.example.com')).toBe(true);
    expect(allowed('ftp://x.example.com')).toBe(false);
    expect(allowed('https://x.example.com:8443')).toBe(false);
    expect(allowed('http://localhost:3001')).toBe(true);
    expect(allowed('http://localhost')).toBe(false);
  });

  it('* allows everything', () => {
    expect(originMatcher(['https://a.test', '*'])('null')).toBe(true);
    expect(originPattern(['https://a.test', '*'])).toBeNull();
  });

  it('compiles the list into one case-insensitive pattern; an empty list allows nothing', () => {
    const pattern = originPattern(['https://app.example.com', 'https://*.example.org', 'localhost:3001'])!;
    expect(pattern.flags).toContain('i');
    expect(pattern.test('HTTPS://App.Example.COM')).toBe(true);
    expect(pattern.test('https://x.Example.org')).toBe(true);
    expect(pattern.test('http://localhost:3001')).toBe(true);
    expect(pattern.test('https://app.example.com.evil.test')).toBe(false);
    expect(pattern.test('https://example.org')).toBe(false);
    expect(originMatcher([])('https://app.example.com')).toBe(false);
    expect(originMatcher([])('')).toBe(false);
  });

  it('remembers decisions per origin and stays right after forgetting them (more origins than it keeps)', () => {
    const allowed = originMatcher(['https://*.example.com']);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2500; i++) {
        expect(allowed(`https://a${i}.example.com`)).toBe(true);
        expect(allowed(`https://a${i}.example.net`)).toBe(false);
      }
    }
    expect(allowed('https://a1.example.com')).toBe(true);
    expect(allowed('https://a1.example.net')).toBe(false);
  });
});

describe('classifyRoute', () => {
  it.each([
    ['GET', '/v1/collections/:name/documents/:id', 'reads', 'json', true],
    ['HEAD', '/v1/collections/:name/documents', 'reads', 'json', true],
    ['POST', '/v1/collections/:name/documents', 'writes', 'json', true],
    ['DELETE', '/v1/storage/files/:id', 'writes', 'json', true],
    ['POST', '/v1/batch', 'writes', 'json', true],
    ['POST', '/v1/functions/:name/invoke', 'invokes', 'json', true],
    ['PUT', '/v1/functions/:name', 'writes', 'json', true],
    ['POST', '/v1/storage/buckets/:bucket/files', 'uploads', 'multipart', true],
    ['POST', '/v1/admin/transfer/buckets/:bucket/files', 'uploads', 'multipart', true],
    ['POST', '/v1/admin/transfer/collections/:name/documents', 'writes', 'json', true],
    ['POST', '/v1/storage/buckets/:bucket/upload-url', 'uploads', 'json', true],
    ['POST', '/v1/storage/files/:id/complete', 'uploads', 'json', true],
    ['PUT', '/v1/storage/signed', 'uploads', 'raw', true],
    ['GET', '/v1/storage/signed', 'reads', 'json', false],
    ['GET', '/v1/storage/files/:id/content', 'reads', 'json', false],
    ['POST', '/v1/auth/login', 'auth', 'json', true],
    ['GET', '/v1/auth/me', 'auth', 'json', true],
    ['POST', '/v1/auth/oauth/:provider/callback', 'auth', 'form', true],
    ['GET', '/v1/auth/oauth/:provider/callback', 'auth', 'json', true],
    ['POST', '/v1/auth/oauth/exchange', 'auth', 'json', true],
    ['GET', '/v1/health/ready', null, 'json', true],
    ['GET', '/v1/metrics', null, 'json', true],
    ['OPTIONS', '/v1/collections/:name/documents', null, 'json', true],
    ['GET', undefined, 'reads', 'json', true],
    ['POST', undefined, 'writes', 'json', true],
  ] as const)('%s %s → %s', (method, url, group, body, compress) => {
    expect(classifyRoute(method, url)).toEqual({ group, body, compress });
  });
});

describe('gateway settings', () => {
  it('has working defaults', () => {
    const config = parseConfig({});
    expect(config.CORS_ORIGINS).toEqual(['*']);
    expect(config.RATE_LIMIT_READS).toEqual({ points: 600, seconds: 60 });
    expect(config.RATE_LIMIT_UPLOADS).toEqual({ points: 30, seconds: 60 });
    expect(config.TRUST_PROXY).toBe(false);
    expect(config.METRICS_PUBLIC).toBe(false);
    expect(config.METRICS_PORT).toBeUndefined();
  });

  it('parses lists, limits and proxies', () => {
    const config = parseConfig({
      CORS_ORIGINS: 'https://app.example.com, *.example.org ,http://localhost:5173',
      RATE_LIMIT_WRITES: '0',
      RATE_LIMIT_INVOKES: '10/1',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
    });
    expect(config.CORS_ORIGINS).toEqual(['https://app.example.com', '*.example.org', 'http://localhost:5173']);
    expect(config.RATE_LIMIT_WRITES).toBeNull();
    expect(config.RATE_LIMIT_INVOKES).toEqual({ points: 10, seconds: 1 });
    expect(config.TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(parseConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(parseConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
  });

  it.each([
    ['CORS_ORIGINS', 'https://a.test/path'],
    ['CORS_ORIGINS', 'https://*'],
    ['CORS_ORIGINS', 'https://a.*.test'],
    ['RATE_LIMIT_READS', '600'],
    ['RATE_LIMIT_READS', '10/0'],
    ['RATE_LIMIT_READS', '-1/60'],
    ['TRUST_PROXY', 'everyone'],
    ['METRICS_TOKEN', 'short'],
    ['HEADERS_TIMEOUT_MS', '20000&UPLOAD_TIMEOUT_MS=15000'],
    ['BODY_TIMEOUT_MS', '20000&UPLOAD_TIMEOUT_MS=15000'],
    ['RATE_LIMIT_SYNC_MS', '5'],
    ['RATE_LIMIT_SYNC_MS', '60001'],
  ])('refuses %s=%s', (name, value) => {
    // `a&B=b`: a second variable set beside the one refused.
    const [own, other] = value.split('&');
    const env = { [name]: own!, ...(other ? Object.fromEntries([other.split('=') as [string, string]]) : {}) };
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name}`));
  });
});

describe('gatewayServerOptions', () => {
  it.each(['400000', '600000'])('gives Node a server it accepts for HEADERS_TIMEOUT_MS=%s (above Node’s 300 s default request timeout)', (headers) => {
    const options = gatewayServerOptions(parseConfig({ HEADERS_TIMEOUT_MS: headers }));
    const server = createServer(options.http);
    expect(server.headersTimeout).toBe(Number(headers));
    expect(server.requestTimeout).toBe(options.requestTimeout);
  });
});

describe('addressBucket', () => {
  it('keeps IPv4 addresses, unwraps IPv4-mapped ones, and groups IPv6 by /64', () => {
    expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(addressBucket('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('fe80::1')).toBe('fe80:0:0:0::/64');
  });
});
