import { describe, expect, it } from 'vitest';
import { redactText, redactUrl } from './redact.js';

describe('redactUrl', () => {
  it.each([
    ['/auth/verify-email?token=abc', '/auth/verify-email?token=[redacted]'],
    ['/cb?code=c1&state=s1&iss=https%3A%2F%2Fidp', '/cb?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fidp'],
    ['/x?refresh_token=a&id_token=b&api_key=c&X-Amz-Signature=d&X-Amz-Credential=e', '/x?refresh_token=[redacted]&id_token=[redacted]&api_key=[redacted]&X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]'],
    ['/v1/collections/a/documents?filter=%7B%7D&limit=5', '/v1/collections/a/documents?filter=%7B%7D&limit=5'],
    ['/p?%74oken=abc', '/p?%74oken=[redacted]'],
    ['/v1/auth/oauth/g/authorize?redirectTo=https%3A%2F%2Fapp&link=lt_x', '/v1/auth/oauth/g/authorize?redirectTo=https%3A%2F%2Fapp&link=[redacted]'],
  ])('%s', (input, output) => {
    expect(redactUrl(input)).toBe(output);
  });

  it('redacts URLs inside messages', () => {
    expect(redactText('Route GET:/auth/x?token=SECRET not found')).toBe('Route GET:/auth/x?token=[redacted] not found');
    expect(redactText('Cannot GET /a?b=1&token=SECRET')).toBe('Cannot GET /a?b=1&token=[redacted]');
  });
});
