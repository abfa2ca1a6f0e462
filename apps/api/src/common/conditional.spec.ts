import { describe, expect, it } from 'vitest';
import { etagMatches, notModified } from './conditional.js';

describe('etagMatches', () => {
  it('matches the tag, a weak form of it, a list containing it, or *', () => {
    expect(etagMatches('"abc"', '"abc"')).toBe(true);
    expect(etagMatches('W/"abc"', '"abc"')).toBe(true);
    expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagMatches('*', '"abc"')).toBe(true);
    expect(etagMatches('"abcd"', '"abc"')).toBe(false);
    expect(etagMatches(undefined, '"abc"')).toBe(false);
  });
});

describe('notModified', () => {
  const modified = 'Wed, 21 Oct 2026 07:28:00 GMT';
  const since = (ifModifiedSince: string | undefined, lastModified: string | undefined = modified) => notModified({ ifModifiedSince }, '"e"', lastModified);

  it('If-Modified-Since: true at or after the modification, to the second', () => {
    expect(since(modified)).toBe(true);
    expect(since('Wed, 21 Oct 2026 07:28:01 GMT')).toBe(true);
    expect(since(modified, new Date(Date.parse(modified) + 400).toUTCString())).toBe(true);
  });

  it('If-Modified-Since: false before it, and for missing or unparsable dates', () => {
    expect(since('Wed, 21 Oct 2026 07:27:59 GMT')).toBe(false);
    expect(since('yesterday')).toBe(false);
    expect(notModified({ ifModifiedSince: modified }, '"e"', undefined)).toBe(false);
    expect(since(undefined)).toBe(false);
  });

  it('If-None-Match decides when sent: If-Modified-Since is then ignored', () => {
    expect(notModified({ ifNoneMatch: '"e"' }, '"e"', modified)).toBe(true);
    expect(notModified({ ifNoneMatch: '"x"', ifModifiedSince: modified }, '"e"', modified)).toBe(false);
    expect(notModified({ ifNoneMatch: '*' }, undefined, modified)).toBe(false);
  });
});
