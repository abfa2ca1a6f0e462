import { BaasError, MfaRequiredError, NetworkError } from './errors.js';
import type { Http, TokenSource } from './http.js';
import type { AuthTokens, Identity, MfaChallenge, MfaStatus, Session, SignInProvider, TotpEnrolment, User } from './types.js';

/**
 * Where the session is kept. The shape of Web Storage and of React Native's AsyncStorage,
 * so `localStorage`, `sessionStorage`, `AsyncStorage` or a secure-storage wrapper can be
 * passed as they are. Methods may be synchronous or return promises.
 */
export interface TokenStore {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** The default store: the session lives as long as the client object. */
export function memoryStore(): TokenStore {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

/** The browser's localStorage (survives reloads); a memory store where there is none. */
export function localStorageStore(): TokenStore {
  const ls = (globalThis as { localStorage?: TokenStore }).localStorage;
  return ls ?? memoryStore();
}

/** What the client keeps of a sign-in. */
export interface AuthSession {
  user: User;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
  /** Lifetime of the access token in seconds, as the server gave it. */
  expiresIn: number;
}

export type AuthEvent = 'signed_in' | 'refreshed' | 'signed_out' | 'refresh_failed';
export type AuthListener = (event: AuthEvent, session: AuthSession | null) => void;

export interface AuthOptions {
  /** Where the session is kept (default: memory). */
  storage?: TokenStore;
  /** Key of the session in the store. Default `selfbaas.session`. */
  storageKey?: string;
  /** Refresh this long before the access token expires. Default 30 s (at most half the token's lifetime). */
  refreshLeewayMs?: number;
  /** Refresh automatically (before expiry and once after a 401). Default true. */
  autoRefresh?: boolean;
}

const FATAL_REFRESH = new Set(['INVALID_REFRESH_TOKEN', 'SESSION_REVOKED', 'ACCOUNT_DISABLED', 'VALIDATION_FAILED']);

/** Sign-up, sign-in, the session and its tokens, refreshed before expiry. */
export class AuthClient implements TokenSource {
  private readonly store: TokenStore;
  private readonly key: string;
  private readonly leewayMs: number | undefined;
  private readonly autoRefresh: boolean;
  private session: AuthSession | null | undefined; // undefined: not loaded from the store yet
  private refreshing: Promise<AuthSession | null> | undefined;
  private readonly listeners = new Set<AuthListener>();

  constructor(
    private readonly http: Http,
    options: AuthOptions = {},
  ) {
    this.store = options.storage ?? memoryStore();
    this.key = options.storageKey ?? 'selfbaas.session';
    this.leewayMs = options.refreshLeewayMs;
    this.autoRefresh = options.autoRefresh ?? true;
  }

  // ---- sign-in flows ------------------------------------------------------------------------

  /** Creates an account and signs in (a verification email is sent). */
  async signUp(credentials: { email: string; password: string }): Promise<AuthSession> {
    const tokens = await this.http.json<AuthTokens>({ method: 'POST', path: '/v1/auth/signup', body: credentials, auth: 'none' });
    return this.start(tokens, 'signed_in');
  }

  /** A guest session: a real user id with no credential yet (upgrade it later with upgradeAnonymous or linkIdentity). */
  async signInAnonymously(): Promise<AuthSession> {
    const tokens = await this.http.json<AuthTokens>({ method: 'POST', path: '/v1/auth/anonymous', auth: 'none' });
    return this.start(tokens, 'signed_in');
  }

  /** Turns the signed-in guest into an email + password account: same id, session and data. */
  async upgradeAnonymous(credentials: { email: string; password: string }): Promise<User> {
    const user = await this.http.json<User>({ method: 'POST', path: '/v1/auth/anonymous/upgrade', body: credentials });
    const session = await this.getSession();
    if (session) await this.save({ ...session, user });
    return user;
  }

  /** Signs in; throws MfaRequiredError (answer it with verifyMfa) when the account has a second factor. */
  async signInWithPassword(credentials: { email: string; password: string }): Promise<AuthSession> {
    const result = await this.http.json<AuthTokens | MfaChallenge>({ method: 'POST', path: '/v1/auth/login', body: credentials, auth: 'none' });
    return this.startOrChallenge(result);
  }

  /** The second step of a sign-in: the challenge's token and a TOTP (or recovery) code. */
  async verifyMfa(challengeToken: string, code: string): Promise<AuthSession> {
    const tokens = await this.http.json<AuthTokens>({ method: 'POST', path: '/v1/auth/mfa/verify', body: { challengeToken, code }, auth: 'none' });
    return this.start(tokens, 'signed_in');
  }

  /** Where to send the browser to sign in with a provider (redirectTo must be on the server's AUTH_REDIRECT_URLS). */
  oauthSignInUrl(provider: string, redirectTo: string): string {
    return `${this.http.url}/v1/auth/oauth/${encodeURIComponent(provider)}/authorize?redirectTo=${encodeURIComponent(redirectTo)}`;
  }

  /** Finishes a provider sign-in with the `code` your redirectTo page received. */
  async exchangeOAuthCode(code: string): Promise<AuthSession> {
    const result = await this.http.json<AuthTokens | MfaChallenge>({ method: 'POST', path: '/v1/auth/oauth/exchange', body: { code }, auth: 'none' });
    return this.startOrChallenge(result);
  }

  /** Native sign-in with an ID token from the provider's SDK (and the raw nonce you gave it). */
  async signInWithIdToken(provider: string, idToken: string, nonce?: string): Promise<AuthSession> {
    const result = await this.http.json<AuthTokens | MfaChallenge>({
      method: 'POST',
      path: `/v1/auth/oauth/${encodeURIComponent(provider)}/id-token`,
      body: { idToken, nonce },
      auth: 'none',
    });
    return this.startOrChallenge(result);
  }

  /** The enabled sign-in providers (for buttons). */
  async listProviders(): Promise<SignInProvider[]> {
    return (await this.http.json<{ items: SignInProvider[] }>({ method: 'GET', path: '/v1/auth/providers', auth: 'none' })).items;
  }

  /**
   * Emails a sign-in link to APP_URL (answers the same whether or not the account exists).
   * `redirectTo` (on the server's AUTH_REDIRECT_URLS): where the hosted page sends the browser
   * after signing in, with the tokens in the URL fragment.
   */
  async requestMagicLink(email: string, options: { redirectTo?: string } = {}): Promise<void> {
    await this.http.json({ method: 'POST', path: '/v1/auth/magic-link/request', body: { email, ...options }, auth: 'none' });
  }

  /** Signs in with the token from a magic-link email (your page takes it from the link); MfaRequiredError as signInWithPassword. */
  async verifyMagicLink(token: string): Promise<AuthSession> {
    const result = await this.http.json<AuthTokens | MfaChallenge>({ method: 'POST', path: '/v1/auth/magic-link/verify', body: { token }, auth: 'none' });
    return this.startOrChallenge(result);
  }

  async requestPasswordReset(email: string): Promise<void> {
    await this.http.json({ method: 'POST', path: '/v1/auth/password-reset/request', body: { email }, auth: 'none' });
  }

  /** Sets a new password with the token from the email; every session ends (sign in again). */
  async resetPassword(token: string, password: string): Promise<void> {
    await this.http.json({ method: 'POST', path: '/v1/auth/password-reset', body: { token, password }, auth: 'none' });
  }

  async requestEmailVerification(): Promise<void> {
    await this.http.json({ method: 'POST', path: '/v1/auth/verify-email/request' });
  }

  /** Confirms the email address with the token from the verification email. */
  async verifyEmail(token: string): Promise<User> {
    const user = await this.http.json<User>({ method: 'POST', path: '/v1/auth/verify-email', body: { token }, auth: 'none' });
    const session = await this.getSession();
    if (session && session.user.id === user.id) await this.save({ ...session, user });
    return user;
  }

  /** Ends this session on the server and forgets it here (also when the server cannot be reached). */
  async signOut(options: { everywhere?: boolean } = {}): Promise<void> {
    const session = await this.getSession();
    if (!session) return;
    try {
      await this.http.json({ method: 'POST', path: options.everywhere ? '/v1/auth/logout-all' : '/v1/auth/logout' });
    } catch (err) {
      // An expired or revoked session is signed out anyway.
      if (!(err instanceof BaasError) && !(err instanceof NetworkError)) throw err;
    } finally {
      await this.clear('signed_out');
    }
  }

  // ---- the signed-in user -------------------------------------------------------------------

  /** The signed-in user as the server has it now (checks the session is still active). */
  async getUser(): Promise<User> {
    const user = await this.http.json<User>({ method: 'GET', path: '/v1/auth/me' });
    const session = await this.getSession();
    if (session) await this.save({ ...session, user });
    return user;
  }

  /** Changes the password; every other session ends. */
  async updatePassword(currentPassword: string, password: string): Promise<User> {
    return this.http.json<User>({ method: 'PATCH', path: '/v1/auth/me', body: { currentPassword, password } });
  }

  /** Edits the profile: `displayName` (or null) and `userMetadata` (replaces the whole object). */
  async updateProfile(profile: { displayName?: string | null; userMetadata?: Record<string, unknown> }): Promise<User> {
    const user = await this.http.json<User>({ method: 'PATCH', path: '/v1/auth/me', body: profile });
    const session = await this.getSession();
    if (session) await this.save({ ...session, user });
    return user;
  }

  /** Mails a confirmation link to the new address; the email changes only when it is opened. */
  async requestEmailChange(email: string, currentPassword?: string): Promise<void> {
    await this.http.json({ method: 'POST', path: '/v1/auth/email-change', body: { email, currentPassword } });
  }

  /** Confirms an email change with the token from the link sent to the new address. */
  async confirmEmailChange(token: string): Promise<User> {
    const user = await this.http.json<User>({ method: 'POST', path: '/v1/auth/email-change/confirm', body: { token }, auth: 'none' });
    const session = await this.getSession();
    if (session && session.user.id === user.id) await this.save({ ...session, user });
    return user;
  }

  /** Deletes the signed-in account (the password is required when it has one) and forgets the session. */
  async deleteAccount(currentPassword?: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: '/v1/auth/me', body: { currentPassword } });
    await this.clear('signed_out');
  }

  // ---- second factor and identities of the signed-in user ------------------------------------

  async mfaStatus(): Promise<MfaStatus> {
    return this.http.json<MfaStatus>({ method: 'GET', path: '/v1/auth/mfa' });
  }

  /** Starts TOTP enrolment: show `qrCode` (or `secret`), then confirmTotp with a code from the app. */
  async enrollTotp(): Promise<TotpEnrolment> {
    return this.http.json<TotpEnrolment>({ method: 'POST', path: '/v1/auth/mfa/totp' });
  }

  /** Enables TOTP; the recovery codes are in this answer only. Refresh to get an aal2 access token. */
  async confirmTotp(code: string): Promise<string[]> {
    return (await this.http.json<{ recoveryCodes: string[] }>({ method: 'POST', path: '/v1/auth/mfa/totp/confirm', body: { code } })).recoveryCodes;
  }

  async disableTotp(code: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: '/v1/auth/mfa/totp', body: { code } });
  }

  async listIdentities(): Promise<Identity[]> {
    return (await this.http.json<{ items: Identity[] }>({ method: 'GET', path: '/v1/auth/identities' })).items;
  }

  /** A URL to open in the browser to link a provider to this account. */
  async linkIdentity(provider: string, redirectTo: string): Promise<string> {
    return (await this.http.json<{ url: string }>({ method: 'POST', path: `/v1/auth/identities/${encodeURIComponent(provider)}/link`, body: { redirectTo } })).url;
  }

  async unlinkIdentity(id: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/auth/identities/${encodeURIComponent(id)}` });
  }

  async listSessions(): Promise<Session[]> {
    return (await this.http.json<{ items: Session[] }>({ method: 'GET', path: '/v1/auth/sessions' })).items;
  }

  async revokeSession(id: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/auth/sessions/${encodeURIComponent(id)}` });
  }

  // ---- the session --------------------------------------------------------------------------

  /** The current session (loaded from the store on first use), or null. Never calls the server. */
  async getSession(): Promise<AuthSession | null> {
    if (this.session === undefined) {
      const raw = await this.store.getItem(this.key);
      let loaded: AuthSession | null;
      try {
        loaded = raw ? (JSON.parse(raw) as AuthSession) : null;
      } catch {
        loaded = null;
      }
      // Another call may have signed in while the store answered.
      if (this.session === undefined) this.session = loaded;
    }
    return this.session;
  }

  /** Adopts tokens obtained elsewhere (e.g. by your server), as if signed in here. */
  async setSession(tokens: AuthTokens): Promise<AuthSession> {
    return this.start(tokens, 'signed_in');
  }

  /** Calls `listener` on every change of the session; returns the function that stops it. */
  onAuthStateChange(listener: AuthListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Exchanges the refresh token for new tokens. Concurrent calls share one request (the
   * server treats two refreshes with the same token as a replay and ends the session).
   */
  refresh(): Promise<AuthSession | null> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  // ---- TokenSource (used by every request) -------------------------------------------------

  async accessToken(): Promise<string | undefined> {
    if (this.refreshing) await this.refreshing.catch(() => undefined);
    let session = await this.getSession();
    if (session && this.autoRefresh && this.due(session)) {
      session = await this.refresh().catch(() => session ?? null);
    }
    return session?.accessToken;
  }

  async renew(rejected: string): Promise<boolean> {
    if (!this.autoRefresh) return false;
    const session = await this.getSession();
    if (!session) return false;
    // Someone refreshed meanwhile: the new token is worth a try.
    if (session.accessToken !== rejected) return true;
    const renewed = await this.refresh().catch(() => null);
    return renewed !== null;
  }

  // ---- internals ----------------------------------------------------------------------------

  private due(session: AuthSession): boolean {
    const leeway = this.leewayMs ?? Math.min(30_000, ((session.expiresIn ?? 900) * 1000) / 2);
    return session.expiresAt - leeway <= Date.now();
  }

  private async doRefresh(): Promise<AuthSession | null> {
    const session = await this.getSession();
    if (!session) return null;
    let tokens: AuthTokens;
    try {
      tokens = await this.http.json<AuthTokens>({
        method: 'POST',
        path: '/v1/auth/refresh',
        body: { refreshToken: session.refreshToken },
        auth: 'none',
      });
    } catch (err) {
      if (err instanceof BaasError && (err.statusCode === 401 || FATAL_REFRESH.has(err.code))) {
        // The session is over (expired, revoked, reused refresh token): forget it.
        this.emit('refresh_failed', null);
        await this.clear('signed_out');
        return null;
      }
      this.emit('refresh_failed', session); // e.g. offline: the session is kept for a later try
      throw err;
    }
    // Signed out while the refresh was in flight: do not resurrect the session.
    if (this.session === null) return null;
    return this.start(tokens, 'refreshed');
  }

  private async startOrChallenge(result: AuthTokens | MfaChallenge): Promise<AuthSession> {
    if ('mfaRequired' in result) throw new MfaRequiredError(result);
    return this.start(result, 'signed_in');
  }

  private async start(tokens: AuthTokens, event: AuthEvent): Promise<AuthSession> {
    const session: AuthSession = {
      user: tokens.user,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: Date.now() + tokens.expiresIn * 1000,
      expiresIn: tokens.expiresIn,
    };
    await this.save(session);
    this.emit(event, session);
    return session;
  }

  private async save(session: AuthSession): Promise<void> {
    this.session = session;
    await this.store.setItem(this.key, JSON.stringify(session));
  }

  private async clear(event: AuthEvent): Promise<void> {
    const had = this.session !== null;
    this.session = null;
    await this.store.removeItem(this.key);
    if (had) this.emit(event, null);
  }

  private emit(event: AuthEvent, session: AuthSession | null): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event, session);
      } catch {
        // A listener's failure must not break the client.
      }
    }
  }
}
