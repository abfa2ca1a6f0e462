import { GitHub, OAuth2RequestError } from 'arctic';
import { createRemoteJWKSet, importPKCS8, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { AppException } from '../../common/app-exception.js';

/** The kinds of provider: any OIDC issuer, three OIDC providers with quirks, and GitHub (plain OAuth2). */
export const PROVIDER_KINDS = ['oidc', 'google', 'microsoft', 'apple', 'github'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** A provider as the flows use it: the client secret already decrypted. */
export interface ProviderConfig {
  id: string;
  kind: ProviderKind;
  issuer: string | null;
  clientId: string;
  clientSecret: string | null;
  scopes: string[];
  audiences: string[];
  options: { tenant?: string; teamId?: string; keyId?: string; responseMode?: 'query' | 'form_post' };
}

/** Who the provider says signed in. */
export interface ProviderProfile {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** What the callback must check, kept server-side between authorize and callback. */
export interface FlowChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export const oauthError = (status: number, code: string, message: string) => new AppException(status, code, message);
/** A provider an admin set up wrongly: not the caller's fault, and not a crash either. */
export const misconfigured = (message: string) => oauthError(503, 'OAUTH_PROVIDER_MISCONFIGURED', message);
const idTokenInvalid = (why: string) => oauthError(401, 'OAUTH_ID_TOKEN_INVALID', `The ID token is not valid for this provider (${why})`);

/** Issuer of each OIDC kind; `issuer` in the provider's settings overrides it. */
export function issuerOf(provider: Pick<ProviderConfig, 'kind' | 'issuer' | 'options'>): string | null {
  if (provider.issuer) return provider.issuer;
  if (provider.kind === 'google') return 'https://accounts.google.com';
  if (provider.kind === 'apple') return 'https://appleid.apple.com';
  if (provider.kind === 'microsoft' && provider.options.tenant) return `https://login.microsoftonline.com/${provider.options.tenant}/v2.0`;
  return null;
}

const DEFAULT_SCOPES: Record<ProviderKind, string[]> = {
  oidc: ['openid', 'email', 'profile'],
  google: ['openid', 'email', 'profile'],
  microsoft: ['openid', 'email', 'profile'],
  // Apple shares the email (in the ID token) and the name (in a `user` form field, on the first
  // sign-in only) when asked; it then answers with response_mode=form_post.
  apple: ['openid', 'email', 'name'],
  github: ['read:user', 'user:email'],
};

/** How the provider sends its answer back: Apple needs form_post; others use the query unless set. */
export function responseModeOf(provider: Pick<ProviderConfig, 'kind' | 'options'>): 'query' | 'form_post' {
  return provider.options.responseMode ?? (provider.kind === 'apple' ? 'form_post' : 'query');
}

/** `email_verified` as each provider states it (Apple sends the string "true"; Microsoft only `xms_edov`). */
export function profileFromClaims(kind: ProviderKind, claims: JWTPayload & Record<string, unknown>): ProviderProfile {
  const truthy = (v: unknown) => v === true || v === 'true' || v === 1 || v === '1';
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : null;
  const emailVerified = email !== null && (kind === 'microsoft' ? truthy(claims.xms_edov) : truthy(claims.email_verified));
  const name = typeof claims.name === 'string' ? claims.name.slice(0, 100) : null;
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) throw idTokenInvalid('no subject');
  return { subject: claims.sub, email, emailVerified, name };
}

/**
 * The protocol side of every provider, on well-kept libraries: openid-client (discovery,
 * authorization code + PKCE + state + nonce, ID token validation) for OIDC kinds, arctic for
 * GitHub, jose for native ID tokens against the provider's JWKS. Discovery documents and
 * JWKS are cached per provider until its settings change.
 */
export class OAuthClients {
  private readonly configs = new Map<string, { key: string; config: Promise<oidc.Configuration> }>();
  private readonly jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(private readonly allowInsecure: boolean) {}

  /** Forgets what was cached for a provider (its settings changed or it was deleted). */
  forget(id: string): void {
    this.configs.delete(id);
    for (const key of this.jwks.keys()) if (key.startsWith(`${id}\u0000`)) this.jwks.delete(key);
  }

  defaultScopes(kind: ProviderKind): string[] {
    return DEFAULT_SCOPES[kind];
  }

  async authorizationUrl(provider: ProviderConfig, redirectUri: string, checks: FlowChecks): Promise<URL> {
    const scopes = provider.scopes.length ? provider.scopes : DEFAULT_SCOPES[provider.kind];
    if (provider.kind === 'github') {
      // Plain OAuth2 through arctic (its GitHub client sends no PKCE; the state is checked here).
      return this.github(provider, redirectUri).createAuthorizationURL(checks.state, scopes);
    }
    const config = await this.oidcConfig(provider);
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      ...(responseModeOf(provider) === 'form_post' ? { response_mode: 'form_post' } : {}),
      ...(provider.kind === 'google' ? { prompt: 'select_account' } : {}),
    });
  }

  /** Exchanges the code of a callback (its full URL) and returns the verified profile. */
  async finish(provider: ProviderConfig, redirectUri: string, callbackUrl: URL, checks: FlowChecks): Promise<ProviderProfile> {
    if (provider.kind === 'github') return this.finishGithub(provider, redirectUri, callbackUrl, checks);
    const config = await this.oidcConfig(provider);
    try {
      const tokens = await oidc.authorizationCodeGrant(
        config,
        callbackUrl,
        { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true },
        { redirect_uri: redirectUri },
      );
      const claims = tokens.claims();
      if (!claims) throw idTokenInvalid('none returned');
      return profileFromClaims(provider.kind, claims);
    } catch (err) {
      throw mapProtocolError(err);
    }
  }

  /**
   * A native app's ID token (Sign in with Apple/Google on the device): signature against the
   * issuer's JWKS, issuer, audience (the client id or one of `audiences`), expiry, and the
   * nonce the app chose (the claim may hold it raw or as its SHA-256 hex, as Apple's SDKs do).
   */
  async verifyIdToken(provider: ProviderConfig, idToken: string, nonce: string | undefined): Promise<ProviderProfile> {
    if (provider.kind === 'github') throw oauthError(400, 'OAUTH_ID_TOKEN_UNSUPPORTED', 'GitHub issues no ID tokens; use the redirect flow');
    const config = await this.oidcConfig(provider);
    const meta = config.serverMetadata();
    if (!meta.jwks_uri) throw oauthError(502, 'OAUTH_PROVIDER_ERROR', 'The provider publishes no JWKS');
    const jwksKey = `${provider.id}\u0000${meta.jwks_uri}`;
    let jwks = this.jwks.get(jwksKey);
    if (!jwks) {
      jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
      this.jwks.set(jwksKey, jwks);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, jwks, {
        issuer: meta.issuer,
        audience: [provider.clientId, ...provider.audiences],
        algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw idTokenInvalid(`claim "${(err as { claim?: string }).claim ?? '?'}" does not match`);
      if (code === 'ERR_JWT_EXPIRED') throw idTokenInvalid('expired');
      if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC') throw oauthError(502, 'OAUTH_PROVIDER_ERROR', 'The provider\'s keys could not be fetched');
      throw idTokenInvalid('signature or format');
    }
    const claim = payload.nonce;
    if (nonce !== undefined || claim !== undefined) {
      const hashed = nonce === undefined ? undefined : await sha256Hex(nonce);
      if (nonce === undefined || (claim !== nonce && claim !== hashed)) throw oauthError(401, 'OAUTH_NONCE_MISMATCH', 'The nonce does not match the ID token');
    }
    return profileFromClaims(provider.kind, payload);
  }

  private github(provider: ProviderConfig, redirectUri: string): GitHub {
    return new GitHub(provider.clientId, provider.clientSecret ?? '', redirectUri);
  }

  private async finishGithub(provider: ProviderConfig, redirectUri: string, callbackUrl: URL, checks: Pick<FlowChecks, 'state'>): Promise<ProviderProfile> {
    const code = callbackUrl.searchParams.get('code');
    if (callbackUrl.searchParams.get('state') !== checks.state) throw oauthError(400, 'OAUTH_STATE_INVALID', 'The state does not match');
    if (!code) throw oauthError(400, 'OAUTH_CODE_INVALID', 'The callback carries no code');
    let accessToken: string;
    try {
      accessToken = (await this.github(provider, redirectUri).validateAuthorizationCode(code)).accessToken();
    } catch (err) {
      if (err instanceof OAuth2RequestError) throw oauthError(400, 'OAUTH_CODE_INVALID', 'GitHub refused the code (expired or used)');
      throw oauthError(502, 'OAUTH_PROVIDER_ERROR', 'GitHub could not be reached');
    }
    const api = (path: string) =>
      fetch(`https://api.github.com${path}`, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/vnd.github+json', 'user-agent': 'selfbaas' } });
    const user = (await (await api('/user')).json()) as { id?: number; name?: string | null; login?: string };
    const emails = (await (await api('/user/emails')).json()) as { email: string; primary: boolean; verified: boolean }[];
    if (typeof user.id !== 'number') throw oauthError(502, 'OAUTH_PROVIDER_ERROR', 'GitHub returned no user');
    return githubProfile(user, Array.isArray(emails) ? emails : []);
  }

  private oidcConfig(provider: ProviderConfig): Promise<oidc.Configuration> {
    const key = JSON.stringify([provider.kind, provider.issuer, provider.clientId, provider.clientSecret, provider.options]);
    const cached = this.configs.get(provider.id);
    if (cached && cached.key === key) return cached.config;
    const config = this.discover(provider).catch((err: unknown) => {
      this.configs.delete(provider.id);
      throw err;
    });
    this.configs.set(provider.id, { key, config });
    return config;
  }

  private async discover(provider: ProviderConfig): Promise<oidc.Configuration> {
    const issuer = issuerOf(provider);
    if (!issuer) throw misconfigured('The provider has no issuer');
    const auth = provider.kind === 'apple' ? oidc.ClientSecretPost(await appleClientSecret(provider)) : provider.clientSecret ? oidc.ClientSecretPost(provider.clientSecret) : oidc.None();
    try {
      return await oidc.discovery(new URL(issuer), provider.clientId, undefined, auth, {
        execute: this.allowInsecure ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
      });
    } catch {
      throw oauthError(502, 'OAUTH_PROVIDER_ERROR', 'The provider\'s discovery document could not be read');
    }
  }
}

/** GitHub's primary email counts only when GitHub says it is verified. */
export function githubProfile(user: { id?: number; name?: string | null; login?: string }, emails: { email: string; primary: boolean; verified: boolean }[]): ProviderProfile {
  const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified) ?? null;
  return {
    subject: String(user.id),
    email: primary ? primary.email.trim().toLowerCase() : null,
    emailVerified: primary !== null,
    name: (user.name ?? user.login ?? null)?.slice(0, 100) ?? null,
  };
}

/** Apple's client secret: an ES256 JWT signed with the team's key (the stored "secret" is that key, PKCS#8 PEM). */
async function appleClientSecret(provider: ProviderConfig): Promise<string> {
  const { teamId, keyId } = provider.options;
  if (!teamId || !keyId || !provider.clientSecret) throw misconfigured('Apple needs options.teamId, options.keyId and the private key as clientSecret');
  const key = await importPKCS8(provider.clientSecret, 'ES256').catch(() => {
    throw misconfigured('The Apple private key (clientSecret) is not a PKCS#8 ES256 key');
  });
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: keyId })
    .setIssuer(teamId)
    .setSubject(provider.clientId)
    .setAudience('https://appleid.apple.com')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
}

async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return Buffer.from(digest).toString('hex');
}

/** openid-client's errors as stable codes: never a provider's raw text or a stack. */
function mapProtocolError(err: unknown): AppException {
  if (err instanceof AppException) return err;
  // openid-client may wrap oauth4webapi's error: the innermost one with an OAUTH_ code says what failed.
  interface ProtocolError {
    code?: string;
    error?: string;
    cause?: ProtocolError & { claim?: string };
  }
  let e = err as ProtocolError; // an Error of openid-client / oauth4webapi (fields read defensively)
  for (let inner = e.cause, depth = 0; inner && depth < 3; inner = inner.cause, depth++) {
    if (typeof inner.code === 'string' && inner.code.startsWith('OAUTH_')) e = inner;
  }
  if (e.code === 'OAUTH_RESPONSE_BODY_ERROR') {
    return e.error === 'invalid_grant'
      ? oauthError(400, 'OAUTH_CODE_INVALID', 'The provider refused the code (expired, used or for another client)')
      : oauthError(502, 'OAUTH_PROVIDER_ERROR', `The provider refused the token request (${String(e.error).slice(0, 60)})`);
  }
  if (e.code === 'OAUTH_AUTHORIZATION_RESPONSE_ERROR') {
    return oauthError(400, 'OAUTH_DENIED', `The provider answered ${String(e.error).slice(0, 60)}`);
  }
  if (e.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') {
    if (e.cause?.claim === 'nonce') return oauthError(401, 'OAUTH_NONCE_MISMATCH', 'The nonce in the ID token does not match');
    return idTokenInvalid(`claim "${e.cause?.claim ?? '?'}" does not match`);
  }
  if (e.code === 'OAUTH_INVALID_RESPONSE' || e.code?.startsWith('OAUTH_JWT') || e.code?.startsWith('ERR_JW')) return idTokenInvalid('rejected by validation');
  if (e.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || e.code === 'OAUTH_HTTP_REQUEST_FORBIDDEN') return oauthError(502, 'OAUTH_PROVIDER_ERROR', 'The provider answered in an unexpected way');
  return oauthError(502, 'OAUTH_PROVIDER_ERROR', 'The provider could not be reached');
}
