import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '#libs/config';

/** Authenticator assurance level: one factor, or a second factor passed too. */
export type Aal = 'aal1' | 'aal2';

export interface AccessClaims {
  sub: string;
  sid: string;
  email: string;
  roles: string[];
  /** How the session was signed in (RFC 8176 style: pwd, email, oauth, otp, recovery, mfa). */
  amr?: string[];
  aal?: Aal;
  /** Expiry (seconds since the epoch) of a verified token; not an input of signAccess. */
  exp?: number;
}

/** Verified tokens remembered at most (the map starts over when full). */
const VERIFIED_MAX = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** sha256 hex: what the database stores for every opaque token and key. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new opaque token: 32 random bytes, base64url. */
export function newOpaqueToken(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Compares two secrets in constant time (their hashes have equal length whatever the inputs). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashToken(a), 'hex'), Buffer.from(hashToken(b), 'hex'));
}

/** Access JWTs: HS256 only, issuer, audience and expiry always checked. */
@Injectable()
export class TokenService {
  /** verified access token → its claims, until the token's expiry (see verifyAccess); least recently used go first. */
  private readonly verified = new LRUCache<string, AccessClaims>({ max: VERIFIED_MAX });

  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get accessTtlSeconds(): number {
    return this.config.JWT_ACCESS_TTL_SECONDS;
  }

  signAccess(claims: AccessClaims): Promise<string> {
    return this.jwt.signAsync(
      { sid: claims.sid, email: claims.email, roles: claims.roles, ...(claims.amr ? { amr: claims.amr } : {}), ...(claims.aal ? { aal: claims.aal } : {}) },
      {
        subject: claims.sub,
        algorithm: 'HS256',
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        expiresIn: this.config.JWT_ACCESS_TTL_SECONDS,
        secret: this.config.JWT_SECRET,
      },
    );
  }

  /**
   * The claims of a valid token, or undefined for any invalid one (never throws). A token
   * verified once is remembered until its `exp` (the same string carries the same signature
   * and claims), so a client's requests after its first cost a cache lookup instead of an HMAC
   * and a JSON parse. Whether the session still grants access is not a property of the token:
   * LiveSessionService reads that on every request.
   */
  async verifyAccess(token: string): Promise<AccessClaims | undefined> {
    const cached = this.knownAccess(token);
    if (cached !== undefined) return cached;
    const claims = await this.verifyUncached(token);
    if (claims?.exp !== undefined) this.verified.set(token, claims);
    return claims;
  }

  /**
   * The claims of a token verified before and not expired, synchronously; undefined when it
   * was not verified yet (call verifyAccess) or has expired. For the gateway's rate limiter,
   * which runs on every request and should not need a promise for a known caller.
   */
  knownAccess(token: string): AccessClaims | undefined {
    const cached = this.verified.get(token);
    // `exp` is wall-clock time: checked against the clock, not a timer of the cache.
    if (cached?.exp === undefined) return undefined;
    if (cached.exp * 1000 > Date.now()) return cached;
    this.verified.delete(token);
    return undefined;
  }

  private async verifyUncached(token: string): Promise<AccessClaims | undefined> {
    try {
      const payload = await this.jwt.verifyAsync<Record<string, unknown>>(token, {
        algorithms: ['HS256'],
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        secret: this.config.JWT_SECRET,
      });
      const { sub, sid, email, roles, amr, aal, exp } = payload;
      if (typeof sub !== 'string' || typeof sid !== 'string' || typeof email !== 'string') return undefined;
      if (!UUID.test(sub) || !UUID.test(sid)) return undefined;
      if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) return undefined;
      const claims: AccessClaims = { sub, sid, email, roles };
      if (Array.isArray(amr) && amr.every((m) => typeof m === 'string')) claims.amr = amr; // checked element by element
      if (aal === 'aal1' || aal === 'aal2') claims.aal = aal;
      if (typeof exp === 'number') claims.exp = exp;
      return Object.freeze(claims);
    } catch {
      return undefined;
    }
  }
}
