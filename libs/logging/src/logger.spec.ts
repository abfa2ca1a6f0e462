import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrlTokens } from './logger.js';

describe('redactUrlTokens', () => {
  it('hides access tokens in logged request URLs, wherever the parameter is', () => {
    for (const url of ['/v1/realtime/sse?collection=x&access_token=SECRET', '/v1/realtime/sse?access_token=SECRET&collection=x', '/x?token=SECRET']) {
      const out = redactUrlTokens({ req: { method: 'GET', url } }) as { req: { url: string } };
      expect(out.req.url).not.toContain('SECRET');
      expect(out.req.url).toContain('[redacted]');
    }
    const untouched = { req: { url: '/v1/collections?filter=token' } };
    expect(redactUrlTokens(untouched)).toBe(untouched);
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
