import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { AppConfig } from '#libs/config';

const VERSION = 'v1';

/**
 * Functions' secrets at rest: AES-256-GCM with a key derived (HKDF-SHA256) from
 * FUNCTIONS_SECRET_KEY, or from JWT_SECRET when that is unset. The stored form is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url), the plaintext a JSON object of name → value.
 */
export class SecretBox {
  private readonly key: Buffer;

  /** `purpose` separates keys per use (functions' secrets, auth providers' client secrets). */
  constructor(secret: string, purpose = 'function-secrets-v1') {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'baas-functions', purpose, 32));
  }

  static fromConfig(config: Pick<AppConfig, 'FUNCTIONS_SECRET_KEY' | 'JWT_SECRET'>, purpose?: string): SecretBox {
    return new SecretBox(config.FUNCTIONS_SECRET_KEY ?? config.JWT_SECRET, purpose);
  }

  seal(values: Record<string, string>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  /** The secrets, or an Error when the ciphertext was made with another key or altered. */
  open(sealed: string): Record<string, string> {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('Unknown secrets format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    const parsed: unknown = JSON.parse(plain);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('Bad secrets payload');
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
    return out;
  }
}
