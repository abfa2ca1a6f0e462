import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { isUniqueViolation, type Prisma, type Tx } from '#libs/database';
import { writeOutbox } from '#libs/events';
import { AppException, notFound, validationFailed } from '../common/app-exception.js';
import { BackgroundTasks } from '../common/background-tasks.js';
import { EmailService } from '../email/email.service.js';
import { type AuthResult, type LoginBody, type SignupBody, toUserView, type UpdateMeBody, type UserView } from './auth.dto.js';
import { assertRedirectAllowed } from './redirects.js';
import { AuthRepository, type TokenPurpose, type UserRecord } from './auth.repository.js';
import type { Caller } from './caller.js';
import { LiveSessionService, sessionEnded } from './live-session.service.js';
import { hashPassword, verifyPassword } from './password.js';
import { RateLimitService } from './rate-limit.service.js';
import { type MfaChallenge, MfaChallengeStore } from './mfa/mfa-challenges.js';
import { type Aal, hashToken, newOpaqueToken, TokenService } from './token.service.js';

/** Where the request came from, for sessions, rate limits and the audit log. */
export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

/** How a session was signed in, carried by its access tokens (amr/aal claims). */
export interface SessionAuth {
  aal: Aal;
  amr: string[];
}

/** A sign-in answers tokens, or a challenge when the account has a second factor. */
export type SignInOutcome = AuthResult | MfaChallenge;

const TOKEN_RULES: Record<TokenPurpose, { ttlMs: number; template: string; path: string }> = {
  verify_email: { ttlMs: 24 * 3600_000, template: 'verification', path: '/auth/verify-email' },
  password_reset: { ttlMs: 3600_000, template: 'password-reset', path: '/auth/reset-password' },
  magic_link: { ttlMs: 15 * 60_000, template: 'magic-link', path: '/auth/magic-link' },
  email_change: { ttlMs: 3600_000, template: 'email-change', path: '/auth/confirm-email-change' },
};

/** What a token email carries beyond the user: the address it goes to and confirms, the redirect after a magic link. */
interface TokenExtras {
  newEmail?: string;
  redirectTo?: string;
}

const invalidCredentials = () => new AppException(401, 'INVALID_CREDENTIALS', 'Email or password is incorrect');
const invalidToken = () => new AppException(400, 'INVALID_TOKEN', 'The token is invalid, expired or already used');
/** Guests get placeholder addresses on this reserved domain (RFC 2606: never delivered). */
export const ANONYMOUS_EMAIL_DOMAIN = 'anonymous.invalid';
const anonymousOnly = () =>
  new AppException(409, 'ANONYMOUS_USER', 'A guest account has no email or password yet: upgrade it first (POST /auth/anonymous/upgrade)');
const emailTaken = () => new AppException(409, 'EMAIL_TAKEN', 'An account with this email already exists');
const invalidRefresh = () => new AppException(401, 'INVALID_REFRESH_TOKEN', 'The refresh token is invalid or expired');

@Injectable()
export class AuthService {
  constructor(
    private readonly repo: AuthRepository,
    private readonly tokens: TokenService,
    private readonly limits: RateLimitService,
    private readonly email: EmailService,
    private readonly sessions: LiveSessionService,
    private readonly background: BackgroundTasks,
    private readonly challenges: MfaChallengeStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async signup(body: SignupBody, client: ClientInfo): Promise<AuthResult> {
    await this.limits.hit('signup', { ip: client.ip });
    const passwordHash = await hashPassword(body.password);
    let mailId: string | undefined;
    const result = await this.repo
      .transaction(async (tx) => {
        const user = await this.repo.createUser(tx, { email: body.email, passwordHash });
        await writeOutbox(tx, 'auth.signup', { user: toUserView(user) });
        await this.repo.audit(tx.db, 'signup', { userId: user.id, actor: `user:${user.id}`, ip: client.ip });
        mailId = await this.queueTokenEmail(tx, user, 'verify_email');
        return this.openSession(tx, user, client, { aal: 'aal1', amr: ['pwd'] });
      })
      .catch((err: unknown) => {
        // Signup answers with tokens, so a taken email cannot be hidden here; the per-IP
        // limit above bounds how fast anyone can probe (docs/decisions.md).
        if (isUniqueViolation(err)) throw emailTaken();
        throw err;
      });
    if (mailId) await this.email.dispatch(mailId);
    return result;
  }

  /**
   * A guest session: a real user (own id, own data under its rules) with no credential yet,
   * rate-limited per IP. The account is upgraded in place (upgradeAnonymous, or linking a
   * provider) and keeps its id; abandoned guests are deleted by the worker after
   * AUTH_GUEST_RETENTION_HOURS without activity.
   */
  async signInAnonymously(client: ClientInfo): Promise<AuthResult> {
    await this.limits.hit('guest', { ip: client.ip });
    return this.repo.transaction(async (tx) => {
      const user = await this.repo.createUser(tx, { email: `guest-${newOpaqueToken().slice(0, 24).toLowerCase()}@${ANONYMOUS_EMAIL_DOMAIN}`, isAnonymous: true });
      await this.repo.audit(tx.db, 'signup.anonymous', { userId: user.id, actor: `user:${user.id}`, ip: client.ip });
      return this.openSession(tx, user, client, { aal: 'aal1', amr: ['anonymous'] });
    });
  }

  /** A guest becomes an email + password account, keeping its id, sessions and data. */
  async upgradeAnonymous(caller: Caller, body: SignupBody, client: ClientInfo): Promise<UserView> {
    const user = await this.activeUser(caller);
    if (!user.isAnonymous) throw new AppException(409, 'NOT_ANONYMOUS', 'This account already has a sign-in method');
    const passwordHash = await hashPassword(body.password);
    let mailId: string | undefined;
    const upgraded = await this.repo
      .transaction(async (tx) => {
        const next = await this.repo.upgradeUser(tx, user.id, { email: body.email, passwordHash });
        await writeOutbox(tx, 'auth.signup', { user: toUserView(next), upgradedFrom: 'anonymous' });
        await this.repo.audit(tx.db, 'signup.upgrade', { userId: user.id, actor: `user:${user.id}`, ip: client.ip });
        mailId = await this.queueTokenEmail(tx, next, 'verify_email');
        return next;
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err)) throw emailTaken();
        throw err;
      });
    if (mailId) await this.email.dispatch(mailId);
    // The email is read live by the guard.
    await this.sessions.invalidateUser(user.id);
    return toUserView(upgraded);
  }

  async login(body: LoginBody, client: ClientInfo): Promise<SignInOutcome> {
    const keys = { email: body.email, ip: client.ip };
    await this.limits.check('login', keys);
    const user = await this.repo.findUserByEmail(body.email);
    // Unknown email or wrong password: the same hashing work, the same answer.
    const ok = await verifyPassword(user?.passwordHash, body.password);
    if (!user || !ok) {
      await this.repo.audit(this.repo.db, 'login.failed', { userId: user?.id, actor: 'anonymous', ip: client.ip });
      await this.limits.hit('login', keys);
      throw invalidCredentials();
    }
    if (user.disabled) throw new AppException(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    await this.limits.reset('login', body.email);
    return this.repo.transaction(async (tx) => {
      await this.repo.audit(tx.db, 'login', { userId: user.id, actor: `user:${user.id}`, ip: client.ip });
      return this.finishSignIn(tx, user, client, ['pwd']);
    });
  }

  /**
   * Rotates a refresh token. A used one presented again within AUTH_REFRESH_REUSE_GRACE_SECONDS
   * of its first use is a concurrent refresh (two tabs, an app resuming): it gets a token of
   * its own in the same session, and the other caller's new token stays valid. Presented
   * later, it is a replay: the whole session is revoked.
   */
  async refresh(refreshToken: string, client: ClientInfo): Promise<AuthResult> {
    await this.limits.check('refresh', { ip: client.ip });
    const tokenHash = hashToken(refreshToken);
    const outcome = await this.repo.transaction(async (tx) => {
      const used = await this.repo.useRefreshToken(tx, tokenHash);
      return used ? this.rotate(tx, used.sessionId) : undefined;
    });
    if (outcome) return this.issue(outcome.user, outcome.sessionId, outcome.refreshToken, outcome.auth);
    const replayed = await this.repo.findUsedRefreshToken(tokenHash);
    if (replayed && Date.now() - replayed.usedAt.getTime() <= this.config.AUTH_REFRESH_REUSE_GRACE_SECONDS * 1000) {
      const sibling = await this.repo.transaction((tx) => this.rotate(tx, replayed.sessionId));
      return this.issue(sibling.user, sibling.sessionId, sibling.refreshToken, sibling.auth);
    }
    if (replayed) {
      const session = await this.repo.findSession(replayed.sessionId);
      if (session) {
        await this.repo.revokeSessions(this.repo.db, session.userId, 'refresh_token_reuse', [session.id]);
        await this.repo.audit(this.repo.db, 'session.reuse_detected', { userId: session.userId, data: { sessionId: session.id } });
        await this.sessions.invalidateUser(session.userId);
      }
    }
    await this.limits.hit('refresh', { ip: client.ip });
    throw invalidRefresh();
  }

  /** A new refresh token in an active session (401 when the session or its user no longer may). */
  private async rotate(tx: Tx, sessionId: string) {
    const session = await this.repo.findSessionInTx(tx, sessionId);
    if (!session || session.revokedAt || session.expiresAt <= new Date() || session.user.disabled) throw invalidRefresh();
    const next = newOpaqueToken('rt_');
    await this.repo.addRefreshToken(tx, session.id, hashToken(next));
    const auth: SessionAuth = { aal: session.aal === 'aal2' ? 'aal2' : 'aal1', amr: session.amr };
    return { user: session.user, sessionId: session.id, refreshToken: next, auth };
  }

  async logout(caller: Caller): Promise<void> {
    const user = requireUser(caller);
    await this.repo.revokeSessions(this.repo.db, user.userId, 'logout', [user.sessionId]);
    await this.sessions.invalidateUser(user.userId);
  }

  async logoutAll(caller: Caller): Promise<number> {
    const user = requireUser(caller);
    const count = await this.repo.revokeSessions(this.repo.db, user.userId, 'logout_all');
    await this.sessions.invalidateUser(user.userId);
    return count;
  }

  /** The signed-in user, checking the session is still active (a revoked one is 401 at once). */
  async me(caller: Caller): Promise<UserView> {
    return toUserView(await this.activeUser(caller));
  }

  /** Profile fields, and the password when both the current and a new one are given. */
  async updateMe(caller: Caller, body: UpdateMeBody): Promise<UserView> {
    let user = await this.activeUser(caller);
    if (user.isAnonymous && body.password !== undefined) throw anonymousOnly();
    if (body.password !== undefined && body.currentPassword !== undefined) {
      await this.changePassword(caller, user, body.currentPassword, body.password);
    }
    if (body.displayName !== undefined || body.userMetadata !== undefined) {
      user = await this.repo.updateProfile(user.id, { displayName: body.displayName, userMetadata: body.userMetadata as Prisma.InputJsonObject | undefined }); // validated JSON object
    }
    return toUserView(user);
  }

  private async changePassword(caller: Caller, user: UserRecord, currentPassword: string, password: string): Promise<void> {
    const { sessionId } = requireUser(caller);
    await this.checkPassword(user, currentPassword);
    const passwordHash = await hashPassword(password);
    // Every other session ends; the one that changed the password stays.
    const others = (await this.repo.listActiveSessions(user.id)).map((s) => s.id).filter((id) => id !== sessionId);
    await this.repo.transaction(async (tx) => {
      await this.repo.setPassword(tx, user.id, passwordHash);
      await this.repo.revokeSessions(tx.db, user.id, 'password_change', others);
      // Outstanding reset and magic links would otherwise still sign in or set another password.
      await this.repo.endAuthTokens(tx, user.id, ['password_reset', 'magic_link']);
      await this.repo.audit(tx.db, 'password.change', { userId: user.id, actor: `user:${user.id}` });
    });
    await this.sessions.invalidateUser(user.id);
  }

  /**
   * The current password, for sensitive changes of an account that has one. A stolen access
   * token must not be a way to guess it at full speed, nor to make the change without it.
   */
  private async checkPassword(user: UserRecord, currentPassword: string | undefined): Promise<void> {
    if (!user.passwordHash) return;
    if (currentPassword === undefined) {
      throw new AppException(400, 'PASSWORD_REQUIRED', 'Send currentPassword to confirm this change');
    }
    await this.limits.check('password-change', { user: user.id });
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      await this.limits.hit('password-change', { user: user.id });
      throw invalidCredentials();
    }
  }

  /**
   * Deletes the signed-in user's account (docs/auth.md, "Deleting an account"): the user row
   * and with it every session, refresh token and email-link token. Documents and files the
   * user owned stay, their ownerId naming a user that no longer exists.
   */
  async deleteMe(caller: Caller, currentPassword: string | undefined, client: ClientInfo): Promise<void> {
    const user = await this.activeUser(caller);
    await this.checkPassword(user, currentPassword);
    await this.repo.transaction(async (tx) => {
      await this.repo.deleteUser(tx, user.id);
      await this.repo.audit(tx.db, 'user.delete.self', { userId: null, actor: `user:${user.id}`, ip: client.ip, data: { userId: user.id } });
    });
    await this.sessions.invalidateUser(user.id);
  }

  /**
   * Starts an email change: a link goes to the new address, and only opening it changes the
   * account's email (the old address keeps working until then).
   */
  async requestEmailChange(caller: Caller, email: string, currentPassword: string | undefined): Promise<void> {
    const user = await this.activeUser(caller);
    if (user.isAnonymous) throw anonymousOnly();
    await this.checkPassword(user, currentPassword);
    if (email === user.email) throw validationFailed("This is already the account's email address");
    if (await this.repo.findUserByEmail(email)) throw emailTaken();
    await this.limits.hit('verify-email', { user: user.id });
    const mailId = await this.repo.transaction(async (tx) => {
      // Only the newest request counts.
      await this.repo.endAuthTokens(tx, user.id, ['email_change']);
      await this.repo.audit(tx.db, 'email_change.request', { userId: user.id, actor: `user:${user.id}` });
      return this.queueTokenEmail(tx, user, 'email_change', { newEmail: email });
    });
    await this.email.dispatch(mailId);
  }

  /** Applies an email change with the token mailed to the new address. */
  async confirmEmailChange(token: string, client: ClientInfo): Promise<UserView> {
    await this.limits.check('token', { ip: client.ip });
    const userId = await this.repo
      .transaction(async (tx) => {
        const used = await this.repo.consumeAuthTokenWithData(tx.db, hashToken(token), 'email_change');
        if (!used?.newEmail) throw invalidToken();
        await this.repo.setEmail(tx, used.userId, used.newEmail);
        // Links mailed to the old address must not work any more.
        await this.repo.endAuthTokens(tx, used.userId);
        await this.repo.audit(tx.db, 'email.change', { userId: used.userId, ip: client.ip, data: { email: used.newEmail } });
        return used.userId;
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err)) throw emailTaken();
        return this.failedTokenUse(err, client);
      });
    // The email is read live by the guard: refresh every replica's cached state.
    await this.sessions.invalidateUser(userId);
    return toUserView((await this.repo.findUserById(userId))!);
  }

  async listSessions(caller: Caller) {
    const user = await this.activeUser(caller);
    const { sessionId } = requireUser(caller);
    const sessions = await this.repo.listActiveSessions(user.id);
    return {
      items: sessions.map((s) => ({ ...s, current: s.id === sessionId })),
      nextCursor: null,
    };
  }

  async revokeSession(caller: Caller, sessionId: string): Promise<void> {
    const user = requireUser(caller);
    const count = await this.repo.revokeSessions(this.repo.db, user.userId, 'revoked', [sessionId]);
    if (count === 0) throw notFound('SESSION_NOT_FOUND', 'No such active session');
    await this.sessions.invalidateUser(user.userId);
  }

  // --- email-token flows -------------------------------------------------------------------

  async requestVerification(caller: Caller): Promise<void> {
    const user = await this.activeUser(caller);
    // A guest's placeholder address is never mailed.
    if (user.emailVerified || user.isAnonymous) return;
    // Per user only: the email goes to the user's own address (a per-IP budget would let the
    // users behind one address lock each other out, and accounts are already limited per IP).
    await this.limits.hit('verify-email', { user: user.id });
    await this.sendTokenEmail(user, 'verify_email');
  }

  async verifyEmail(token: string, client: ClientInfo): Promise<UserView> {
    await this.limits.check('token', { ip: client.ip });
    const user = await this.repo
      .transaction(async (tx) => {
        const userId = await this.repo.consumeAuthToken(tx.db, hashToken(token), 'verify_email');
        if (!userId) throw invalidToken();
        await this.repo.markEmailVerified(tx, userId);
        await this.repo.audit(tx.db, 'email.verified', { userId });
        return userId;
      })
      .catch((err: unknown) => this.failedTokenUse(err, client));
    // Rules may read @auth.emailVerified: cached session states must see the change now.
    await this.sessions.invalidateUser(user);
    return toUserView((await this.repo.findUserById(user))!);
  }

  /**
   * Always answers the same (202), whether or not the account exists, and before doing
   * anything that depends on it: the lookup, the token, the email and the audit entry run
   * after the answer, identically for both cases, so neither content nor timing tells.
   */
  async requestPasswordReset(email: string, client: ClientInfo): Promise<void> {
    await this.limits.hit('password-reset', { email, ip: client.ip });
    this.background.run('password-reset request', () => this.emailLinkIfActive(email, 'password_reset', 'password_reset.request', client));
  }

  /**
   * Sets the new password and ends every session and every outstanding email-link token of
   * the account. Cheap checks first: an unknown, used or expired token never costs a hash.
   */
  async resetPassword(token: string, password: string, client: ClientInfo): Promise<void> {
    await this.limits.check('token', { ip: client.ip });
    const tokenHash = hashToken(token);
    if (!(await this.repo.authTokenUsable(tokenHash, 'password_reset'))) return this.failedTokenUse(invalidToken(), client);
    const passwordHash = await hashPassword(password);
    const userId = await this.repo
      .transaction(async (tx) => {
        const userId = await this.repo.consumeAuthToken(tx.db, tokenHash, 'password_reset');
        if (!userId) throw invalidToken();
        await this.repo.setPassword(tx, userId, passwordHash);
        // The reset proves the address. Provider identities that never proved it (made when
        // someone signed in with an unverified provider email) end: an account taken back by
        // its owner keeps no way in for whoever created it (docs/auth.md).
        await this.repo.removeUnprovenIdentities(tx, userId);
        // The link was delivered to the address, so the address is verified too.
        await this.repo.markEmailVerified(tx, userId);
        await this.repo.revokeSessions(tx.db, userId, 'password_reset');
        await this.repo.endAuthTokens(tx, userId);
        await this.repo.audit(tx.db, 'password_reset', { userId, ip: client.ip });
        return userId;
      })
      .catch((err: unknown) => this.failedTokenUse(err, client));
    await this.sessions.invalidateUser(userId);
  }

  /** Always answers the same (202), whether or not the account exists (as requestPasswordReset). */
  async requestMagicLink(email: string, client: ClientInfo, redirectTo?: string): Promise<void> {
    if (redirectTo !== undefined) assertRedirectAllowed(this.config.AUTH_REDIRECT_URLS, redirectTo);
    await this.limits.hit('magic-link', { email, ip: client.ip });
    this.background.run('magic-link request', () => this.emailLinkIfActive(email, 'magic_link', 'magic_link.request', client, { redirectTo }));
  }

  async verifyMagicLink(token: string, client: ClientInfo): Promise<SignInOutcome> {
    await this.limits.check('token', { ip: client.ip });
    // Consumed by one autocommit statement: the row lock is held for that statement only, so
    // concurrent uses of the token fail at once instead of queueing behind a long transaction.
    const used = await this.repo.consumeAuthTokenWithData(this.repo.db, hashToken(token), 'magic_link');
    if (!used) return this.failedTokenUse(invalidToken(), client);
    const { userId } = used;
    const user = await this.repo.findUserById(userId);
    if (!user) throw invalidToken();
    if (user.disabled) throw new AppException(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    return this.repo.transaction(async (tx) => {
      await this.repo.markEmailVerified(tx, userId);
      await this.repo.audit(tx.db, 'login.magic_link', { userId, actor: `user:${userId}`, ip: client.ip });
      const result = await this.finishSignIn(tx, { ...user, emailVerified: true }, client, ['email'], used.redirectTo ?? undefined);
      return used.redirectTo ? { ...result, redirectTo: used.redirectTo } : result;
    });
  }


  /**
   * Signs in a user another proof has identified (a provider's sign-in: amr `oauth`; a passed
   * second factor: aal2). A first factor owes the second when the account has one.
   */
  async signInAs(user: UserRecord, client: ClientInfo, event: string, amr: string[], data: Prisma.InputJsonObject = {}): Promise<SignInOutcome> {
    if (user.disabled) throw new AppException(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    return this.repo.transaction(async (tx) => {
      await this.repo.audit(tx.db, event, { userId: user.id, actor: `user:${user.id}`, ip: client.ip, data });
      return this.finishSignIn(tx, user, client, amr);
    });
  }

  /** A session after both factors (the MFA challenge was answered). */
  async signInWithSecondFactor(user: UserRecord, client: ClientInfo, auth: SessionAuth): Promise<AuthResult> {
    if (user.disabled) throw new AppException(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    return this.repo.transaction(async (tx) => {
      await this.repo.audit(tx.db, 'login.mfa', { userId: user.id, actor: `user:${user.id}`, ip: client.ip, data: { amr: auth.amr } });
      return this.openSession(tx, user, client, auth);
    });
  }

  // --- helpers -------------------------------------------------------------------------------

  /** Counts a failed use of an email-link token against the client IP, then rethrows. */
  private async failedTokenUse(err: unknown, client: ClientInfo): Promise<never> {
    if (err instanceof AppException && err.code === 'INVALID_TOKEN') await this.limits.hit('token', { ip: client.ip });
    throw err;
  }

  /** The work behind password-reset and magic-link requests, the same for every email. */
  private async emailLinkIfActive(email: string, purpose: TokenPurpose, event: string, client: ClientInfo, extras: TokenExtras = {}): Promise<void> {
    const user = await this.repo.findUserByEmail(email);
    if (user && !user.disabled && !user.isAnonymous) await this.sendTokenEmail(user, purpose, extras);
    await this.repo.audit(this.repo.db, event, { userId: user?.id, ip: client.ip });
  }

  private async activeUser(caller: Caller): Promise<UserRecord> {
    const who = requireUser(caller);
    const session = await this.repo.findSession(who.sessionId);
    if (!session || session.revokedAt || session.expiresAt <= new Date() || session.userId !== who.userId) {
      throw sessionEnded();
    }
    const user = await this.repo.findUserById(who.userId);
    if (!user || user.disabled) throw sessionEnded();
    return user;
  }

  /** Tokens after a first factor, or a challenge when the account has a confirmed second factor. */
  private async finishSignIn(tx: Tx, user: UserRecord, client: ClientInfo, amr: string[], redirectTo?: string): Promise<SignInOutcome> {
    if (await this.repo.hasConfirmedMfa(tx.db, user.id)) return this.challenges.create({ userId: user.id, amr, ...(redirectTo ? { redirectTo } : {}) });
    return this.openSession(tx, user, client, { aal: 'aal1', amr });
  }

  private async openSession(tx: Tx, user: UserRecord, client: ClientInfo, auth: SessionAuth): Promise<AuthResult> {
    const refreshToken = newOpaqueToken('rt_');
    const session = await this.repo.createSession(tx, {
      userId: user.id,
      userAgent: client.userAgent,
      ip: client.ip,
      expiresAt: new Date(Date.now() + this.config.REFRESH_TTL_SECONDS * 1000),
      refreshTokenHash: hashToken(refreshToken),
      ...auth,
    });
    return this.issue(user, session.id, refreshToken, auth);
  }

  private async issue(user: UserRecord, sessionId: string, refreshToken: string, auth: SessionAuth): Promise<AuthResult> {
    const accessToken = await this.tokens.signAccess({ sub: user.id, sid: sessionId, email: user.email, roles: user.roles, amr: auth.amr, aal: auth.aal });
    return { user: toUserView(user), accessToken, refreshToken, expiresIn: this.tokens.accessTtlSeconds };
  }

  /** Creates a single-use token and queues its email in `tx`; returns the message to dispatch. */
  private async queueTokenEmail(tx: Tx, user: UserRecord, purpose: TokenPurpose, extras: TokenExtras = {}): Promise<string> {
    const token = newOpaqueToken();
    const rule = TOKEN_RULES[purpose];
    await this.repo.createAuthToken(tx, {
      userId: user.id,
      purpose,
      tokenHash: hashToken(token),
      expiresAt: new Date(Date.now() + rule.ttlMs),
      ...extras,
    });
    // Links point at the configured app URL, never at the request's Host header.
    const link = `${this.config.APP_URL}${rule.path}?token=${encodeURIComponent(token)}`;
    // An email change is confirmed from the new address; every other link goes to the account's.
    const to = extras.newEmail ?? user.email;
    const { id } = await this.email.queue({ to, template: rule.template, data: { link, email: to } }, tx);
    return id;
  }

  private async sendTokenEmail(user: UserRecord, purpose: TokenPurpose, extras: TokenExtras = {}): Promise<void> {
    const mailId = await this.repo.transaction((tx) => this.queueTokenEmail(tx, user, purpose, extras));
    await this.email.dispatch(mailId);
  }
}

export function requireUser(caller: Caller): Extract<Caller, { kind: 'user' }> {
  if (caller.kind !== 'user') throw new AppException(403, 'USER_ONLY', 'Only a signed-in user can do this');
  return caller;
}
