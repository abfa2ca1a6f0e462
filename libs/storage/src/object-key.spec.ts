import { describe, expect, it } from 'vitest';
import { assertObjectKey, fileKeyProblem } from './object-key.js';
import { InvalidObjectKeyError } from './storage-driver.js';

describe('assertObjectKey (what drivers accept)', () => {
  it('accepts the keys the api generates', () => {
    for (const key of ['photos/0b9c0d2e-7f1a-4c55-9a43-3f1e2d0c9b8a', 'photos/0b9c0d2e-7f1a-4c55-9a43-3f1e2d0c9b8a.upload', 'a/b/c_d-e.f']) {
      expect(() => assertObjectKey(key)).not.toThrow();
    }
  });

  it.each([
    '',
    '..',
    '../x',
    'a/../../x',
    './a',
    '/abs',
    'a//b',
    'a/',
    '.tmp/x',
    'a/.hidden',
    '%2e%2e/x',
    'a\\b',
    'a\0b',
    'a b',
    'ü/x',
    'x'.repeat(513),
  ])('refuses %j', (key) => {
    expect(() => assertObjectKey(key)).toThrow(InvalidObjectKeyError);
  });

  it('refuses non-strings', () => {
    expect(() => assertObjectKey(undefined)).toThrow(InvalidObjectKeyError);
    expect(() => assertObjectKey(['a'])).toThrow(InvalidObjectKeyError);
  });
});

describe('fileKeyProblem (client-chosen keys)', () => {
  it('accepts ordinary paths in any script', () => {
    for (const key of ['a.txt', 'avatars/2026/me.png', 'ünïcødé/日本語 (1).txt', "it's ok!/a+b=c@d,e&f$g;h~i.txt", '...x', 'a..b/c']) {
      expect(fileKeyProblem(key), key).toBeUndefined();
    }
  });

  it.each([
    ['', 'must not be empty'],
    ['../x', '. or ..'],
    ['a/..', '. or ..'],
    ['./a', '. or ..'],
    ['/etc/passwd', 'start with /'],
    ['a/', 'end with /'],
    ['a//b', 'empty segments'],
    ['%2e%2e/x', 'may contain only'],
    ['a\\..\\b', 'may contain only'],
    ['a\0b', 'may contain only'],
    ['a\nb', 'may contain only'],
    ['a\u202Eb', 'may contain only'],
    ['C:/x', 'may contain only'],
    [' a/b', 'space'],
    ['e\u0301', 'normal form'],
    ['x'.repeat(1025), 'at most 1024 bytes'],
    ['é'.repeat(513), 'at most 1024 bytes'],
    [`${'y'.repeat(256)}/z`, 'at most 255 bytes'],
  ])('refuses %j (%s)', (key, problem) => {
    expect(fileKeyProblem(key)).toContain(problem);
  });
});
