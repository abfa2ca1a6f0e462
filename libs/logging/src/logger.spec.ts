import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { redactUrl } from './redact.js';

describe('access tokens in logged URLs', () => {
  it('hides access tokens in logged request URLs, wherever the parameter is', () => {
    for (const url of ['/v1/realtime/sse?collection=x&access_token=SECRET', '/v1/realtime/sse?access_token=SECRET&collection=x', '/x?token=SECRET']) {
      const out = redactUrl(url);
      expect(out).not.toContain('SECRET');
      expect(out).toContain('[redacted]');
    }
    expect(redactUrl('/v1/collections?filter=token')).toBe('/v1/collections?filter=token');
  });

  it('applies to every line of the logger', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const logger = createLogger('info', 'test', sink);
    logger.info({ req: { url: '/a?access_token=abc' } }, 'one');
    logger.info({ req: { url: '/b?access_token=def' } }, 'two');
    expect(lines.join('')).not.toMatch(/abc|def/);
  });
});
