import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed api URL allows: one method on one object key, until `exp` (epoch seconds). */
export interface SignedUrlClaims {
  method: 'GET' | 'PUT';
  key: string;
  exp: number;
  /** PUT: the largest body accepted. */
  maxBytes?: number;
  /** GET: response headers, fixed when the URL was made (like S3's response-* overrides). */
  contentType?: string;
  contentDisposition?: string;
  etag?: string;
}

const MAX_TOKEN_LENGTH = 4096;

/**
 * HMAC-signed tokens for the local-disk driver's presigned URLs, served by the api itself
 * (`PUT/GET /v1/storage/signed?token=`, SIGNED_URL_PATH), so both drivers offer the same presigned flows.
 * Token = base64url(JSON claims) "." base64url(HMAC-SHA256). The HMAC key is derived from
 * the api's secret with a purpose label, so these tokens can never be confused with JWTs.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('baas:storage-signed-url:v1').digest();
  }

  sign(claims: SignedUrlClaims): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The claims of a well-signed, unexpired token, else undefined (never throws). */
  verify(token: string, nowMs = Date.now()): SignedUrlClaims | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return undefined;
    const [, body, mac] = match as unknown as [string, string, string];
    const expected = Buffer.from(this.mac(body), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!isClaims(claims)) return undefined;
    if (claims.exp * 1000 <= nowMs) return undefined;
    return claims;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

function isClaims(value: unknown): value is SignedUrlClaims {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.method === 'GET' || v.method === 'PUT') &&
    typeof v.key === 'string' &&
    typeof v.exp === 'number' &&
    (v.maxBytes === undefined || typeof v.maxBytes === 'number') &&
    (v.contentType === undefined || typeof v.contentType === 'string') &&
    (v.contentDisposition === undefined || typeof v.contentDisposition === 'string') &&
    (v.etag === undefined || typeof v.etag === 'string')
  );
}
