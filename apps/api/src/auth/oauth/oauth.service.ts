import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { isUniqueViolation } from '#libs/database';
import { writeOutbox } from '#libs/events';
import { SecretBox } from '#libs/functions';
import { REDIS } from '#libs/queue';
import { AppException, notFound } from '../../common/app-exception.js';
import { toUserView } from '../auth.dto.js';
import { AuthRepository, type UserRecord, userRecordOf } from '../auth.repository.js';
import { AuthService, type ClientInfo, type SignInOutcome } from '../auth.service.js';
import type { Caller } from '../caller.js';
import { LiveSessionService } from '../live-session.service.js';
import { RateLimitService } from '../rate-limit.service.js';
import { assertRedirectAllowed } from '../redirects.js';
import { hashToken, newOpaqueToken } from '../token.service.js';
import { appleUserField, type ProviderBody } from './oauth.dto.js';
import { type FlowChecks, misconfigured, OAuthClients, oauthError, type ProviderConfig, type ProviderKind, type ProviderProfile } from './oauth-clients.js';
import { type IdentityRow, OAuthRepository, type ProviderRow } from './oauth.repository.js';

/** What is kept in Redis between the redirect to the provider and its callback. */
interface PendingFlow extends FlowChecks {
  provider: string;
  redirectTo: string;
  /** Set when a signed-in user links this provider to their account. */
  linkUserId?: string;
  /** The hash of the browser-binding cookie's value. */
  browser: string;
}

/** A finished sign-in waiting for the app to exchange its one-time code. */
interface PendingExchange {
  userId: string;
  provider: string;
}

export const OAUTH_COOKIE = 'baas_oauth';
const FLOW_TTL_SECONDS = 600;
const EXCHANGE_TTL_SECONDS = 120;
const PROVIDER_SECRET_PURPOSE = 'auth-provider-secrets-v1';

const stateInvalid = () => oauthError(400, 'OAUTH_STATE_INVALID', 'The sign-in state is unknown, expired, already used or from another browser; start again');
const providerNotFound = () => oauthError(404, 'OAUTH_PROVIDER_NOT_FOUND', 'No such enabled sign-in provider');

/**
 * Sign-in with OAuth 2.0 / OpenID Connect providers (docs/auth.md, "Sign in with a provider"):
 * the redirect flow (state, nonce and PKCE kept server-side and bound to the browser by a
 * cookie; the app receives a one-time code, never tokens in a URL), native ID tokens,
 * account linking under the verified-email rule, and identities a user can list and unlink.
 */
@Injectable()
export class OAuthService implements OnModuleInit {
  private readonly logger = new Logger('OAuthService');
  private clients!: OAuthClients;
  private box!: SecretBox;

  constructor(
    private readonly repo: OAuthRepository,
    private readonly users: AuthRepository,
    private readonly auth: AuthService,
    private readonly limits: RateLimitService,
    private readonly sessions: LiveSessionService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.clients = new OAuthClients(this.config.AUTH_OIDC_ALLOW_INSECURE);
    this.box = SecretBox.fromConfig(this.config, PROVIDER_SECRET_PURPOSE);
  }

  // --- admin: providers ----------------------------------------------------------------------

  async putProvider(id: string, body: ProviderBody) {
    const before = await this.repo.findProvider(id);
    // A secret left out keeps the stored one; null removes it.
    const clientSecret = body.clientSecret === undefined ? (before?.clientSecret ?? null) : body.clientSecret === null ? null : this.box.seal({ value: body.clientSecret });
    const row = await this.repo.upsertProvider(id, {
      kind: body.kind,
      issuer: body.issuer ?? null,
      clientId: body.clientId,
      clientSecret,
      scopes: body.scopes,
      audiences: body.audiences,
      options: body.options,
      enabled: body.enabled,
    });
    this.clients.forget(id);
    return providerView(row);
  }

  async listProviders() {
    return { items: (await this.repo.listProviders()).map(providerView), nextCursor: null };
  }

  async getProvider(id: string) {
    const row = await this.repo.findProvider(id);
    if (!row) throw oauthError(404, 'OAUTH_PROVIDER_NOT_FOUND', 'No such sign-in provider');
    return providerView(row);
  }

  async deleteProvider(id: string): Promise<void> {
    if (!(await this.repo.deleteProvider(id))) throw oauthError(404, 'OAUTH_PROVIDER_NOT_FOUND', 'No such sign-in provider');
    this.clients.forget(id);
  }

  /** The enabled providers, for an app's sign-in buttons (ids and kinds only). */
  async publicProviders() {
    const rows = await this.repo.listProviders();
    return { items: rows.filter((r) => r.enabled).map((r) => ({ id: r.id, kind: r.kind as ProviderKind })), nextCursor: null };
  }

  // --- the redirect flow ---------------------------------------------------------------------

  /**
   * Starts a sign-in (or, with `linkUserId`, a link): the provider's authorization URL and
   * the value of the cookie that binds the flow to this browser.
   */
  async start(providerId: string, redirectTo: string, linkUserId?: string): Promise<{ url: string; browser: string }> {
    assertRedirectAllowed(this.config.AUTH_REDIRECT_URLS, redirectTo);
    const provider = await this.provider(providerId);
    const browser = newOpaqueToken();
    const checks: FlowChecks = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    const flow: PendingFlow = { ...checks, provider: provider.id, redirectTo, browser: hashToken(browser), ...(linkUserId ? { linkUserId } : {}) };
    await this.redis.set(this.key('flow', checks.state), JSON.stringify(flow), 'EX', FLOW_TTL_SECONDS);
    const url = await this.clients.authorizationUrl(provider, this.callbackUrl(provider.id), checks);
    return { url: url.toString(), browser };
  }

  /**
   * The provider's callback. Returns where to send the browser: the app's redirect URL with
   * `code` (to exchange) or with `error` and `error_description`. A state that is unknown,
   * used, expired or from another browser has no trusted redirect: it throws.
   */
  async callback(providerId: string, callbackUrl: URL, browserCookie: string | undefined, client: ClientInfo): Promise<string> {
    // Apple's `user` form field (carried over by the form_post hop) is not part of the protocol.
    const userField = callbackUrl.searchParams.get('user');
    callbackUrl.searchParams.delete('user');
    const state = callbackUrl.searchParams.get('state');
    if (!state || state.length > 200) throw stateInvalid();
    // Taken once (GETDEL): a replayed callback finds nothing.
    const raw = await this.redis.getdel(this.key('flow', state));
    if (!raw) throw stateInvalid();
    const flow = JSON.parse(raw) as PendingFlow;
    if (flow.provider !== providerId || !browserCookie || hashToken(browserCookie) !== flow.browser) throw stateInvalid();
    const back = new URL(flow.redirectTo);
    try {
      const providerError = callbackUrl.searchParams.get('error');
      if (providerError) throw oauthError(400, 'OAUTH_DENIED', `The provider answered ${providerError.slice(0, 60)}`);
      const provider = await this.provider(providerId);
      const profile = await this.clients.finish(provider, this.callbackUrl(provider.id), callbackUrl, flow);
      profile.name ??= nameFromUserField(userField);
      const user = flow.linkUserId ? await this.link(flow.linkUserId, provider, profile, client) : await this.resolve(provider, profile, client);
      const code = newOpaqueToken('oc_');
      const pending: PendingExchange = { userId: user.id, provider: provider.id };
      await this.redis.set(this.key('code', code), JSON.stringify(pending), 'EX', EXCHANGE_TTL_SECONDS);
      back.searchParams.set('code', code);
    } catch (err) {
      if (!(err instanceof AppException)) this.logger.error({ msg: 'OAuth callback failed', provider: providerId, err: String(err) });
      const known = err instanceof AppException ? err : oauthError(502, 'OAUTH_PROVIDER_ERROR', 'The sign-in could not be completed');
      back.searchParams.set('error', known.code);
      back.searchParams.set('error_description', known.message);
    }
    return back.toString();
  }

  /** The app trades the one-time code from its redirect URL for a session. */
  async exchange(code: string, client: ClientInfo): Promise<SignInOutcome> {
    await this.limits.check('token', { ip: client.ip });
    const raw = await this.redis.getdel(this.key('code', code));
    if (!raw) {
      await this.limits.hit('token', { ip: client.ip });
      throw oauthError(400, 'OAUTH_CODE_INVALID', 'The sign-in code is unknown, expired or already used');
    }
    const pending = JSON.parse(raw) as PendingExchange;
    const user = await this.users.findUserById(pending.userId);
    if (!user) throw oauthError(400, 'OAUTH_CODE_INVALID', 'The account no longer exists');
    return this.auth.signInAs(user, client, 'login.oauth', ['oauth'], { provider: pending.provider });
  }

  /** Native sign-in: an ID token the app obtained from the provider's SDK. */
  async signInWithIdToken(providerId: string, idToken: string, nonce: string | undefined, client: ClientInfo): Promise<SignInOutcome> {
    await this.limits.check('token', { ip: client.ip });
    const provider = await this.provider(providerId);
    let profile: ProviderProfile;
    try {
      profile = await this.clients.verifyIdToken(provider, idToken, nonce);
    } catch (err) {
      await this.limits.hit('token', { ip: client.ip });
      throw err;
    }
    const user = await this.resolve(provider, profile, client);
    return this.auth.signInAs(user, client, 'login.oauth', ['oauth'], { provider: provider.id });
  }

  // --- identities ----------------------------------------------------------------------------

  /**
   * Starts linking a provider to the signed-in user: a URL of this api to open in the browser
   * (a top-level navigation, so the flow's cookie is set where the callback will read it),
   * carrying a one-time ticket that names the user.
   */
  async startLink(caller: Caller, providerId: string, redirectTo: string): Promise<{ url: string }> {
    if (caller.kind !== 'user') throw new AppException(403, 'USER_ONLY', 'Only a signed-in user can do this');
    assertRedirectAllowed(this.config.AUTH_REDIRECT_URLS, redirectTo);
    await this.provider(providerId);
    const ticket = newOpaqueToken('lt_');
    await this.redis.set(this.key('link', ticket), caller.userId, 'EX', EXCHANGE_TTL_SECONDS);
    const url = new URL(`${this.config.PUBLIC_URL}/v1/auth/oauth/${encodeURIComponent(providerId)}/authorize`);
    url.searchParams.set('redirectTo', redirectTo);
    url.searchParams.set('link', ticket);
    return { url: url.toString() };
  }

  /** The user a link ticket names (taken once). */
  async linkTicketUser(ticket: string): Promise<string> {
    const userId = await this.redis.getdel(this.key('link', ticket));
    if (!userId) throw oauthError(400, 'OAUTH_STATE_INVALID', 'The link request is unknown, expired or already used; start again');
    return userId;
  }

  async listIdentities(caller: Caller) {
    if (caller.kind !== 'user') throw new AppException(403, 'USER_ONLY', 'Only a signed-in user can do this');
    return { items: (await this.repo.listIdentities(caller.userId)).map(identityView), nextCursor: null };
  }

  /** Unlinks an identity unless it is the account's last way to sign in. */
  async unlink(caller: Caller, identityId: string): Promise<void> {
    if (caller.kind !== 'user') throw new AppException(403, 'USER_ONLY', 'Only a signed-in user can do this');
    const userId = caller.userId;
    await this.repo.transaction(async (tx) => {
      const methods = await this.repo.signInMethods(tx, userId);
      const identity = (await this.repo.listIdentities(userId)).find((i) => i.id === identityId);
      if (!identity) throw notFound('IDENTITY_NOT_FOUND', 'No such identity');
      if (!methods.password && methods.identities <= 1) {
        throw oauthError(409, 'LAST_SIGN_IN_METHOD', 'This is the last way to sign in to the account; set a password or link another provider first');
      }
      await this.repo.deleteIdentity(tx, userId, identityId);
      await writeOutbox(tx, 'auth.identity', { operation: 'unlink', userId, provider: identity.provider });
      await this.users.audit(tx.db, 'identity.unlink', { userId, actor: `user:${userId}`, data: { provider: identity.provider } });
    });
  }

  // --- who signed in ---------------------------------------------------------------------------

  /**
   * The account of a provider profile. A known identity is its user. Otherwise the provider's
   * email decides: no account with it → a new account; an account with it → linked only when
   * the provider asserts the email verified AND the account's email is verified (else
   * 409 OAUTH_ACCOUNT_EXISTS: someone may have registered the address without owning it).
   */
  private async resolve(provider: ProviderConfig, profile: ProviderProfile, client: ClientInfo): Promise<UserRecord> {
    const userId = await this.repo
      .transaction(async (tx) => {
        const known = await this.repo.findIdentity(tx.db, provider.id, profile.subject);
        if (known) {
          await this.repo.touchIdentity(tx, known.id, profile);
          return known.userId;
        }
        if (!profile.email) throw oauthError(400, 'OAUTH_EMAIL_REQUIRED', 'The provider shared no email address; allow it and try again');
        const account = await tx.db.selectFrom('users').select(['id', 'email_verified']).where('email', '=', profile.email).executeTakeFirst();
        if (account) {
          if (!profile.emailVerified || !account.email_verified) {
            throw oauthError(
              409,
              'OAUTH_ACCOUNT_EXISTS',
              'An account with this email exists; sign in to it (or reset its password) and link this provider from the account',
            );
          }
          await this.repo.createIdentity(tx, { userId: account.id, provider: provider.id, ...profileFields(profile) });
          await writeOutbox(tx, 'auth.identity', { operation: 'link', userId: account.id, provider: provider.id });
          await this.users.audit(tx.db, 'identity.link', { userId: account.id, ip: client.ip, data: { provider: provider.id, by: 'verified_email' } });
          return account.id;
        }
        const user = userRecordOf(
          await tx.db
            .insertInto('users')
            .values({ email: profile.email, email_verified: profile.emailVerified, display_name: profile.name ?? null })
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
        await this.repo.createIdentity(tx, { userId: user.id, provider: provider.id, ...profileFields(profile) });
        await writeOutbox(tx, 'auth.signup', { user: toUserView(user), provider: provider.id });
        await this.users.audit(tx.db, 'signup', { userId: user.id, actor: `user:${user.id}`, ip: client.ip, data: { provider: provider.id } });
        return user.id;
      })
      .catch((err: unknown) => {
        // Two first sign-ins at once: the loser finds the winner's identity on a retry.
        if (isUniqueViolation(err)) {
          throw oauthError(409, 'CONFLICT', 'Signed in twice at the same moment; try again');
        }
        throw err;
      });
    const user = await this.users.findUserById(userId);
    if (!user) throw oauthError(409, 'CONFLICT', 'The account was deleted meanwhile');
    if (user.disabled) throw new AppException(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    return user;
  }

  /**
   * Links a provider identity to a signed-in user (who proved both sides), unless another
   * account has it. A guest is upgraded by it: it takes the provider's email (which no other
   * account may have) and keeps its id and data.
   */
  private async link(userId: string, provider: ProviderConfig, profile: ProviderProfile, client: ClientInfo): Promise<UserRecord> {
    await this.repo
      .transaction(async (tx) => {
        const known = await this.repo.findIdentity(tx.db, provider.id, profile.subject);
        if (known && known.userId !== userId) throw oauthError(409, 'IDENTITY_IN_USE', 'This provider account is linked to another account');
        if (known) return;
        await this.repo.createIdentity(tx, { userId, provider: provider.id, ...profileFields(profile) });
        const current = await tx.db.selectFrom('users').select('is_anonymous').where('id', '=', userId).executeTakeFirst();
        if (current?.is_anonymous) {
          if (!profile.email) throw oauthError(400, 'OAUTH_EMAIL_REQUIRED', 'The provider shared no email address; allow it and try again');
          const taken = await tx.db.selectFrom('users').select('id').where('email', '=', profile.email).executeTakeFirst();
          if (taken) throw oauthError(409, 'OAUTH_ACCOUNT_EXISTS', 'An account with this email exists; sign in to it instead');
          const upgraded = await this.users.upgradeUser(tx, userId, { email: profile.email, emailVerified: profile.emailVerified });
          await writeOutbox(tx, 'auth.signup', { user: toUserView(upgraded), provider: provider.id, upgradedFrom: 'anonymous' });
        }
        await writeOutbox(tx, 'auth.identity', { operation: 'link', userId, provider: provider.id });
        await this.users.audit(tx.db, 'identity.link', { userId, actor: `user:${userId}`, ip: client.ip, data: { provider: provider.id, by: 'signed_in' } });
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err)) {
          throw oauthError(409, 'OAUTH_ACCOUNT_EXISTS', 'An account with this email exists; sign in to it instead');
        }
        throw err;
      });
    await this.sessions.invalidateUser(userId);
    const user = await this.users.findUserById(userId);
    if (!user || user.disabled) throw new AppException(403, 'ACCOUNT_DISABLED', 'This account is disabled or deleted');
    return user;
  }

  // --- helpers -------------------------------------------------------------------------------

  private async provider(id: string): Promise<ProviderConfig> {
    const row = await this.repo.findProvider(id);
    if (!row || !row.enabled) throw providerNotFound();
    let clientSecret: string | null = null;
    if (row.clientSecret) {
      try {
        clientSecret = this.box.open(row.clientSecret).value ?? null;
      } catch {
        throw misconfigured('The provider\'s client secret cannot be decrypted (FUNCTIONS_SECRET_KEY changed?)');
      }
    }
    return {
      id: row.id,
      kind: row.kind as ProviderKind,
      issuer: row.issuer,
      clientId: row.clientId,
      clientSecret,
      scopes: row.scopes,
      audiences: row.audiences,
      options: (row.options ?? {}) as ProviderConfig['options'],
    };
  }

  /** The redirect URI registered with the provider: on PUBLIC_URL, one per provider. */
  callbackUrl(providerId: string): string {
    return `${this.config.PUBLIC_URL}/v1/auth/oauth/${encodeURIComponent(providerId)}/callback`;
  }

  private key(kind: 'flow' | 'code' | 'link', secret: string): string {
    return `${this.config.QUEUE_PREFIX}:oauth:${kind}:${hashToken(secret)}`;
  }
}

/**
 * The name in Apple's `user` form field (JSON, sent on the first sign-in only). It is not
 * signed, so only the display name is taken from it; a malformed field is ignored.
 */
export function nameFromUserField(field: string | null): string | null {
  if (!field) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(field);
  } catch {
    return null;
  }
  const user = appleUserField.safeParse(parsed);
  if (!user.success || !user.data.name) return null;
  const name = [user.data.name.firstName, user.data.name.lastName].map((p) => p?.trim()).filter(Boolean).join(' ');
  return name ? name.slice(0, 100) : null;
}

function profileFields(profile: ProviderProfile) {
  return { subject: profile.subject, email: profile.email, emailVerified: profile.emailVerified };
}

export function providerView(row: ProviderRow) {
  return {
    id: row.id,
    kind: row.kind as ProviderKind,
    issuer: row.issuer,
    clientId: row.clientId,
    hasClientSecret: row.clientSecret !== null,
    scopes: row.scopes,
    audiences: row.audiences,
    options: row.options as Record<string, string>,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function identityView(row: IdentityRow) {
  return {
    id: row.id,
    provider: row.provider,
    email: row.email,
    emailVerified: row.emailVerified,
    createdAt: row.createdAt.toISOString(),
    lastSignInAt: row.lastSignInAt.toISOString(),
  };
}
