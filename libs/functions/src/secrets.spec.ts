import { describe, expect, it } from 'vitest';
import { SecretBox } from './secrets.js';
import { uuidFromName } from './ids.js';

describe('SecretBox', () => {
  const box = new SecretBox('a'.repeat(40));

  it('round-trips secrets and never stores them in clear', () => {
    const sealed = box.seal({ API_TOKEN: 'tok-123', OTHER: 'ünïcødé' });
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('tok-123');
    expect(box.open(sealed)).toEqual({ API_TOKEN: 'tok-123', OTHER: 'ünïcødé' });
  });

  it('uses a fresh IV each time', () => {
    expect(box.seal({ A: 'x' })).not.toBe(box.seal({ A: 'x' }));
  });

  it('refuses another key and altered ciphertext', () => {
    const sealed = box.seal({ A: 'x' });
    expect(() => new SecretBox('b'.repeat(40)).open(sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
  });

  it('derives the key from FUNCTIONS_SECRET_KEY, else JWT_SECRET', () => {
    const jwt = 'j'.repeat(40);
    const own = 'k'.repeat(40);
    const sealed = SecretBox.fromConfig({ JWT_SECRET: jwt, FUNCTIONS_SECRET_KEY: undefined }).seal({ A: '1' });
    expect(new SecretBox(jwt).open(sealed)).toEqual({ A: '1' });
    expect(() => SecretBox.fromConfig({ JWT_SECRET: jwt, FUNCTIONS_SECRET_KEY: own }).open(sealed)).toThrow();
  });
});

describe('uuidFromName', () => {
  it('is a stable, well-formed UUID per name', () => {
    expect(uuidFromName('a')).toBe(uuidFromName('a'));
    expect(uuidFromName('a')).not.toBe(uuidFromName('b'));
    expect(uuidFromName('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
