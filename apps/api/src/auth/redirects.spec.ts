import { describe, expect, it } from 'vitest';
import { redirectAllowed } from './redirects.js';

const list = ['https://app.example.com/welcome', 'https://app.example.com/auth/*', 'myapp://callback*'];

describe('redirectAllowed', () => {
  it.each([
    ['https://app.example.com/welcome', true],
    ['https://app.example.com/welcome/', false],
    ['https://app.example.com/welcome?x=1', false],
    ['https://app.example.com/auth/done?x=1', true],
    ['https://app.example.com/auth', false],
    ['https://app.example.com.evil.test/auth/x', false],
    ['https://evil.test/?https://app.example.com/welcome', false],
    ['https://user@app.example.com/auth/x', false],
    ['https://app.example.com/auth/x#frag', false],
    ['myapp://callback', true],
    ['myapp://callback/x', true],
    ['otherapp://callback', false],
    ['javascript:alert(1)//https://app.example.com/auth/', false],
    ['not a url', false],
  ])('%s → %s', (url, expected) => {
    expect(redirectAllowed(list, url)).toBe(expected);
  });

  it('allows nothing with an empty list', () => {
    expect(redirectAllowed([], 'https://app.example.com/welcome')).toBe(false);
  });
});
