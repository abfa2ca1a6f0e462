import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { Prisma } from '#libs/database';
import { writeOutbox } from '#libs/events';
import { AppException } from '../common/app-exception.js';
import { BackgroundTasks } from '../common/background-tasks.js';
import { EmailService } from '../email/email.service.js';
import { type AuthResult, type LoginBody, type SignupBody, toUserView, type UserView } from './auth.dto.js';
import { AuthRepository, type TokenPurpose, type UserRecord } from './auth.repository.js';
import type { Caller } from './caller.js';
import { LiveSessionService, sessionEnded } from './live-session.service.js';
import { hashPassword, verifyPassword } from './password.js';
import { RateLimitService } from './rate-limit.service.js';
import { hashToken, newOpaqueToken, TokenService } from './token.service.js';

/** Where the request came from, for sessions, rate limits and the audit log. */
export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

const TOKEN_RULES: Record<TokenPurpose, { ttlMs: number; template: string; path: string }> = {
  verify_email: { ttlMs: 24 * 3600_000, template: 'verification', path: '/auth/verify-email' },
  password_reset: { ttlMs: 3600_000, template: 'password-reset', path: '/auth/reset-password' },
  magic_link: { ttlMs: 15 * 60_000, template: 'magic-link', path: '/auth/magic-link' },
};

const invalidCredentials = () => new AppException(401, 'INVALID_CREDENTIALS', 'Email or password is incorrect');
const invalidToken = () => new AppException(400, 'INVALID_TOKEN', 'The token is invalid, expired or already used');
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
        await this.repo.audit(tx, 'signup', { userId: user.id, actor: `user:${user.id}`, ip: client.ip });
        mailId = await this.queueTokenEmail(tx, user, 'verify_email');
        return this.openSession(tx, user, client);
      })
      .catch((err: unknown) => {
        // Signup answers with tokens, so a taken email cannot be hidden here; the per-IP
        // limit above bounds how fast anyone can probe (docs/decisions.md).
        if (isUniqueViolation(err)) throw new AppException(409, 'EMAIL_TAKEN', 'An account with this email already exists');
        throw err;
      });
    if (mailId) await this.email.dispatch(mailId);
    return result;
  }

  async login(body: LoginBody, client: ClientInfo): Promise<AuthResult> {
    const keys = { email: body.email, ip: client.ip };
    await this.limits.check('login', keys);
    const user = await this.repo.findUserByEmail(body.email);
    // Unknown email or wrong password: the same hashing work, the same answer.
    const ok = await verifyPassword(user?.passwordHash, body.password);
    if (!user || !ok) {
      await this.repo.audit(this.repo.client, 'login.failed', { userId: user?.id, actor: 'anonymous', ip: client.ip });
      await this.limits.hit('login', keys);
      throw invalidCredentials();
    }
    if (user.disabled) throw new AppException(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    await this.limits.reset('login', body.email);
    return this.repo.transaction(async (tx) => {
      await this.repo.audit(tx, 'login', { userId: user.id, actor: `user:${user.id}`, ip: client.ip });
      return this.openSession(tx, user, client);
    });
  }

  /** Rotates a refresh token. A used one presented again revokes its whole session. */
  async refresh(refreshToken: string, client: ClientInfo): Promise<AuthResult> {
    await this.limits.check('refresh', { ip: client.ip });
    const tokenHash = hashToken(refreshToken);
    const outcome = await this.repo.transaction(async (tx) => {
      const used = await this.repo.useRefreshToken(tx, tokenHash);
      if (!used) return undefined;
      const session = await this.repo.findSessionInTx(tx, used.sessionId);
      if (!session || session.revokedAt || session.expiresAt <= new Date() || session.user.disabled) throw invalidRefresh();
      const next = newOpaqueToken('rt_');
      await this.repo.addRefreshToken(tx, session.id, hashToken(next));
      return { user: session.user, sessionId: session.id, refreshToken: next };
    });
    if (!outcome) {
      const replayed = await this.repo.findUsedRefreshToken(tokenHash);
      if (replayed) {
        const session = await this.repo.findSession(replayed.sessionId);
        if (session) {
          await this.repo.revokeSessions(this.repo.client, session.userId, 'refresh_token_reuse', [session.id]);
          await this.repo.audit(this.repo.client, 'session.reuse_detected', { userId: session.userId, data: { sessionId: session.id } });
          await this.sessions.invalidateUser(session.userId);
        }
      }
      await this.limits.hit('refresh', { ip: client.ip });
      throw invalidRefresh();
    }
    return this.issue(outcome.user, outcome.sessionId, outcome.refreshToken);
  }

  async logout(caller: Caller): Promise<void> {
    const user = requireUser(caller);
    await this.repo.revokeSessions(this.repo.client, user.userId, 'logout', [user.sessionId]);
    await this.sessions.invalidateUser(user.userId);
  }

  async logoutAll(caller: Caller): Promise<number> {
    const user = requireUser(caller);
    const count = await this.repo.revokeSessions(this.repo.client, user.userId, 'logout_all');
    await this.sessions.invalidateUser(user.userId);
    return count;
  }

  /** The signed-in user, checking the session is still active (a revoked one is 401 at once). */
  async me(caller: Caller): Promise<UserView> {
    return toUserView(await this.activeUser(caller));
  }

  async changePassword(caller: Caller, currentPassword: string, password: string): Promise<UserView> {
    const user = await this.activeUser(caller);
    const { sessionId } = requireUser(caller);
    // A stolen access token must not be a way to guess the current password at full speed.
    await this.limits.check('password-change', { user: user.id });
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      await this.limits.hit('password-change', { user: user.id });
      throw invalidCredentials();
    }
    const passwordHash = await hashPassword(password);
    // Every other session ends; the one that changed the password stays.
    const others = (await this.repo.listActiveSessions(user.id)).map((s) => s.id).filter((id) => id !== sessionId);
    await this.repo.transaction(async (tx) => {
      await this.repo.setPassword(tx, user.id, passwordHash);
      await this.repo.revokeSessions(tx, user.id, 'password_change', others);
      // Outstanding reset and magic links would otherwise still sign in or set another password.
      await this.repo.endAuthTokens(tx, user.id, ['password_reset', 'magic_link']);
      await this.repo.audit(tx, 'password.change', { userId: user.id, actor: `user:${user.id}` });
    });
    await this.sessions.invalidateUser(user.id);
    return toUserView(user);
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
    const count = await this.repo.revokeSessions(this.repo.client, user.userId, 'revoked', [sessionId]);
    if (count === 0) throw new AppException(404, 'NOT_FOUND', 'No such active session');
    await this.sessions.invalidateUser(user.userId);
  }

  // --- email-token flows -------------------------------------------------------------------

  async requestVerification(caller: Caller): Promise<void> {
    const user = await this.activeUser(caller);
    if (user.emailVerified) return;
    // Per user only: the email goes to the user's own address (a per-IP budget would let the
    // users behind one address lock each other out, and accounts are already limited per IP).
    await this.limits.hit('verify-email', { user: user.id });
    await this.sendTokenEmail(user, 'verify_email');
  }

  async verifyEmail(token: string, client: ClientInfo): Promise<UserView> {
    await this.limits.check('token', { ip: client.ip });
    const user = await this.repo
      .transaction(async (tx) => {
        const userId = await this.repo.consumeAuthToken(tx, hashToken(token), 'verify_email');
        if (!userId) throw invalidToken();
        await this.repo.markEmailVerified(tx, userId);
        await this.repo.audit(tx, 'email.verified', { userId });
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
        const userId = await this.repo.consumeAuthToken(tx, tokenHash, 'password_reset');
        if (!userId) throw invalidToken();
        await this.repo.setPassword(tx, userId, passwordHash);
        // The link was delivered to the address, so the address is verified too.
        await this.repo.markEmailVerified(tx, userId);
        await this.repo.revokeSessions(tx, userId, 'password_reset');
        await this.repo.endAuthTokens(tx, userId);
        await this.repo.audit(tx, 'password_reset', { userId, ip: client.ip });
        return userId;
      })
      .catch((err: unknown) => this.failedTokenUse(err, client));
    await this.sessions.invalidateUser(userId);
  }

  /** Always answers the same (202), whether or not the account exists (as requestPasswordReset). */
  async requestMagicLink(email: string, client: ClientInfo): Promise<void> {
    await this.limits.hit('magic-link', { email, ip: client.ip });
    this.background.run('magic-link request', () => this.emailLinkIfActive(email, 'magic_link', 'magic_link.request', client));
  }

  async verifyMagicLink(token: string, client: ClientInfo): Promise<AuthResult> {
    await this.limits.check('token', { ip: client.ip });
    // Consumed by one autocommit statement: the row lock is held for that statement only, so
    // concurrent uses of the token fail at once instead of queueing behind a long transaction.
    const userId = await this.repo.consumeAuthToken(this.repo.client, hashToken(token), 'magic_link');
    if (!userId) return this.failedTokenUse(invalidToken(), client);
    const user = await this.repo.findUserById(userId);
    if (!user) throw invalidToken();
    if (user.disabled) throw new AppException(403, 'ACCOUNT_DISABLED', 'This account is disabled');
    return this.repo.transaction(async (tx) => {
      await this.repo.markEmailVerified(tx, userId);
      await this.repo.audit(tx, 'login.magic_link', { userId, actor: `user:${userId}`, ip: client.ip });
      return this.openSession(tx, { ...user, emailVerified: true }, client);
    });
  }


  // --- helpers -------------------------------------------------------------------------------

  /** Counts a failed use of an email-link token against the client IP, then rethrows. */
  private async failedTokenUse(err: unknown, client: ClientInfo): Promise<never> {
    if (err instanceof AppException && err.code === 'INVALID_TOKEN') await this.limits.hit('token', { ip: client.ip });
    throw err;
  }

  /** The work behind password-reset and magic-link requests, the same for every email. */
  private async emailLinkIfActive(email: string, purpose: TokenPurpose, event: string, client: ClientInfo): Promise<void> {
    const user = await this.repo.findUserByEmail(email);
    if (user && !user.disabled) await this.sendTokenEmail(user, purpose);
    await this.repo.audit(this.repo.client, event, { userId: user?.id, ip: client.ip });
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

  private async openSession(tx: Prisma.TransactionClient, user: UserRecord, client: ClientInfo): Promise<AuthResult> {
    const refreshToken = newOpaqueToken('rt_');
    const session = await this.repo.createSession(tx, {
      userId: user.id,
      userAgent: client.userAgent,
      ip: client.ip,
      expiresAt: new Date(Date.now() + this.config.REFRESH_TTL_SECONDS * 1000),
      refreshTokenHash: hashToken(refreshToken),
    });
    return this.issue(user, session.id, refreshToken);
  }

  private async issue(user: UserRecord, sessionId: string, refreshToken: string): Promise<AuthResult> {
    const accessToken = await this.tokens.signAccess({ sub: user.id, sid: sessionId, email: user.email, roles: user.roles });
    return { user: toUserView(user), accessToken, refreshToken, expiresIn: this.tokens.accessTtlSeconds };
  }

  /** Creates a single-use token and queues its email in `tx`; returns the message to dispatch. */
  private async queueTokenEmail(tx: Prisma.TransactionClient, user: UserRecord, purpose: TokenPurpose): Promise<string> {
    const token = newOpaqueToken();
    const rule = TOKEN_RULES[purpose];
    await this.repo.createAuthToken(tx, {
      userId: user.id,
      purpose,
      tokenHash: hashToken(token),
      expiresAt: new Date(Date.now() + rule.ttlMs),
    });
    // Links point at the configured app URL, never at the request's Host header.
    const link = `${this.config.APP_URL}${rule.path}?token=${encodeURIComponent(token)}`;
    const { id } = await this.email.queue({ to: user.email, template: rule.template, data: { link, email: user.email } }, tx);
    return id;
  }

  private async sendTokenEmail(user: UserRecord, purpose: TokenPurpose): Promise<void> {
    const mailId = await this.repo.transaction((tx) => this.queueTokenEmail(tx, user, purpose));
    await this.email.dispatch(mailId);
  }
}

function requireUser(caller: Caller): Extract<Caller, { kind: 'user' }> {
  if (caller.kind !== 'user') throw new AppException(403, 'USER_ONLY', 'Only a signed-in user can do this');
  return caller;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'P2002';
}
