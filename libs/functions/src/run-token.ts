import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Run tokens: what a function's `ctx` calls carry to the api instead of the service key.
 * Minted by the worker for one run, valid until shortly after the run's timeout, signed with
 * a key derived from the secrets key (FUNCTIONS_SECRET_KEY, else JWT_SECRET) that api and
 * worker share. The api accepts one only on the routes `ctx` uses (docs/functions.md).
 */
export interface RunTokenClaims {
  /** The run. */
  run: string;
  /** The function's id. */
  fn: string;
  /** Expiry, epoch ms. */
  exp: number;
  /** Act as this caller instead of the function (http trigger `runAs: "caller"`). */
  as?: { userId: string; sessionId: string } | 'anonymous';
}

const PREFIX = 'frt1';

function keyOf(secret: string): Buffer {
  return createHmac('sha256', secret).update('function-run-token/v1').digest();
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', keyOf(secret)).update(payload).digest('base64url');
}

export function mintRunToken(secret: string, claims: RunTokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${PREFIX}.${payload}.${sign(secret, payload)}`;
}

/** The claims of a valid, unexpired token; undefined for anything else. */
export function verifyRunToken(secret: string, token: string, now = Date.now()): RunTokenClaims | undefined {
  const [prefix, payload, signature, ...rest] = token.split('.');
  if (prefix !== PREFIX || !payload || !signature || rest.length > 0) return undefined;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null) return undefined;
  const c = claims as Partial<RunTokenClaims>; // signed by us; fields checked below
  if (typeof c.run !== 'string' || typeof c.fn !== 'string' || typeof c.exp !== 'number' || c.exp <= now) return undefined;
  if (c.as !== undefined && c.as !== 'anonymous' && (typeof c.as?.userId !== 'string' || typeof c.as.sessionId !== 'string')) return undefined;
  return { run: c.run, fn: c.fn, exp: c.exp, ...(c.as ? { as: c.as } : {}) };
}

/** The secret run tokens are signed with, from the config api and worker share. */
export function runTokenSecret(config: { FUNCTIONS_SECRET_KEY?: string; JWT_SECRET?: string }): string {
  const secret = config.FUNCTIONS_SECRET_KEY ?? config.JWT_SECRET;
  if (!secret) throw new Error('FUNCTIONS_SECRET_KEY or JWT_SECRET is needed to sign run tokens');
  return secret;
}
