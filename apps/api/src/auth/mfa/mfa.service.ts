import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { writeOutbox } from '#libs/events';
import { SecretBox } from '#libs/functions';
import { appNameFrom } from '#libs/mail';
import { AppException, notFound } from '../../common/app-exception.js';
import type { AuthResult } from '../auth.dto.js';
import { AuthRepository } from '../auth.repository.js';
import { AuthService, type ClientInfo, requireUser } from '../auth.service.js';
import type { Caller } from '../caller.js';
import { LiveSessionService } from '../live-session.service.js';
import { RateLimitService } from '../rate-limit.service.js';
import { hashToken } from '../token.service.js';
import { MfaChallengeStore } from './mfa-challenges.js';
import { MfaRepository } from './mfa.repository.js';

const RECOVERY_CODES = 10;
/** Codes of the previous and the next 30 s step are accepted too (clock drift), each once. */
const EPOCH_TOLERANCE_SECONDS = 30;

const codeInvalid = () => new AppException(401, 'MFA_CODE_INVALID', 'The code is wrong, expired or already used');
const notEnabled = () => new AppException(409, 'MFA_NOT_ENABLED', 'This account has no confirmed second factor');

/** A recovery code: 4-4-4 characters of an unambiguous alphabet (60 bits). */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]!).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}
const normaliseRecovery = (code: string) => code.trim().toLowerCase().replace(/[\s-]/g, '');

/**
 * TOTP second factor (otplib): enrol (otpauth URL + QR), confirm with a first code (recovery
 * codes shown once, stored hashed), challenge at sign-in, disable, admin reset. Every code is
 * accepted once (the used time step is recorded atomically); wrong codes are rate-limited per
 * user and per IP.
 */
@Injectable()
export class MfaService {
  private readonly box: SecretBox;
  private readonly issuer: string;

  constructor(
    private readonly repo: MfaRepository,
    private readonly users: AuthRepository,
    private readonly auth: AuthService,
    private readonly challenges: MfaChallengeStore,
    private readonly limits: RateLimitService,
    private readonly sessions: LiveSessionService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = SecretBox.fromConfig(config, 'mfa-totp-v1');
    this.issuer = appNameFrom(config.MAIL_FROM, config.PUBLIC_URL);
  }

  async status(caller: Caller) {
    const { userId } = requireUser(caller);
    const factor = await this.repo.findFactor(userId);
    return {
      totp: { enabled: factor?.confirmedAt != null, pending: factor != null && factor.confirmedAt === null },
      recoveryCodesLeft: factor?.confirmedAt ? await this.repo.recoveryCodesLeft(userId) : 0,
    };
  }

  /** A new TOTP secret for the authenticator app; it counts only once confirmed with a code. */
  async enrol(caller: Caller) {
    const { userId, email } = requireUser(caller);
    const existing = await this.repo.findFactor(userId);
    if (existing?.confirmedAt) throw new AppException(409, 'MFA_ALREADY_ENABLED', 'A second factor is already enabled; disable it first');
    const secret = generateSecret();
    await this.repo.putPendingFactor(userId, this.box.seal({ secret }));
    const otpauthUrl = generateURI({ issuer: this.issuer, label: email, secret });
    return { secret, otpauthUrl, qrCode: await QRCode.toDataURL(otpauthUrl) };
  }

  /** Confirms the pending factor with a code from the app; answers the recovery codes, once. */
  async confirm(caller: Caller, code: string, client: ClientInfo): Promise<{ recoveryCodes: string[] }> {
    const who = requireUser(caller);
    const factor = await this.repo.findFactor(who.userId);
    if (!factor || factor.confirmedAt) throw new AppException(409, 'MFA_NOT_ENROLLED', 'Start enrolment first (POST /auth/mfa/totp)');
    await this.checkTotp(who.userId, factor, code, client);
    const recoveryCodes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await this.repo.transaction(async (tx) => {
      await this.repo.confirm(tx, who.userId, recoveryCodes.map((c) => hashToken(normaliseRecovery(c))));
      // The session that just proved the factor is aal2 from its next refresh on.
      await this.repo.raiseSession(tx, who.sessionId, [...new Set([...(who.amr ?? []), 'otp', 'mfa'])]);
      await writeOutbox(tx, 'auth.mfa', { operation: 'mfa_enrolled', userId: who.userId, factor: 'totp' });
      await this.users.audit(tx.db, 'mfa.enrol', { userId: who.userId, actor: `user:${who.userId}`, ip: client.ip });
    });
    return { recoveryCodes };
  }

  /** Turns the factor off: needs a current code (or a recovery code). */
  async disable(caller: Caller, code: string, client: ClientInfo): Promise<void> {
    const { userId } = requireUser(caller);
    const factor = await this.repo.findFactor(userId);
    if (!factor?.confirmedAt) throw notEnabled();
    await this.checkCode(userId, factor, code, client);
    await this.repo.transaction(async (tx) => {
      await this.repo.remove(tx, userId);
      await this.users.audit(tx.db, 'mfa.disable', { userId, actor: `user:${userId}`, ip: client.ip });
    });
  }

  /** The second step of a sign-in: the challenge from the first step and a code. */
  async verifyChallenge(challengeToken: string, code: string, client: ClientInfo): Promise<AuthResult> {
    const pending = await this.challenges.peek(challengeToken);
    if (!pending) throw new AppException(400, 'MFA_CHALLENGE_INVALID', 'The challenge is unknown, expired or already answered; sign in again');
    const factor = await this.repo.findFactor(pending.userId);
    if (!factor?.confirmedAt) throw new AppException(400, 'MFA_CHALLENGE_INVALID', 'The second factor was removed; sign in again');
    const method = await this.checkCode(pending.userId, factor, code, client);
    // Taken once: of two correct answers at the same moment only one opens a session.
    if (!(await this.challenges.take(challengeToken))) throw new AppException(400, 'MFA_CHALLENGE_INVALID', 'The challenge was already answered');
    const user = await this.users.findUserById(pending.userId);
    if (!user) throw new AppException(400, 'MFA_CHALLENGE_INVALID', 'The account no longer exists');
    const result = await this.auth.signInWithSecondFactor(user, client, { aal: 'aal2', amr: [...new Set([...pending.amr, method, 'mfa'])] });
    return pending.redirectTo ? { ...result, redirectTo: pending.redirectTo } : result;
  }

  /** Admin: removes a user's factor (a lost phone and lost recovery codes). */
  async adminReset(actor: string, userId: string): Promise<void> {
    const removed = await this.repo.transaction(async (tx) => {
      const gone = await this.repo.remove(tx, userId);
      if (gone) await this.users.audit(tx.db, 'mfa.reset', { userId, actor });
      return gone;
    });
    if (!removed) throw notFound('MFA_FACTOR_NOT_FOUND', 'This user has no second factor');
    await this.sessions.invalidateUser(userId);
  }

  // --- codes -----------------------------------------------------------------------------

  /** A TOTP code, or a recovery code; which one it was. */
  private async checkCode(userId: string, factor: Factor, code: string, client: ClientInfo): Promise<'otp' | 'recovery'> {
    if (/^\d{6}$/.test(code.trim())) {
      await this.checkTotp(userId, factor, code.trim(), client);
      return 'otp';
    }
    await this.limits.check('mfa', { user: userId, ip: client.ip });
    if (await this.repo.useRecoveryCode(userId, hashToken(normaliseRecovery(code)))) return 'recovery';
    await this.limits.hit('mfa', { user: userId, ip: client.ip });
    throw codeInvalid();
  }

  private async checkTotp(userId: string, factor: Factor, code: string, client: ClientInfo): Promise<void> {
    await this.limits.check('mfa', { user: userId, ip: client.ip });
    const secret = this.box.open(factor.secret).secret;
    const result = secret ? await verify({ secret, token: code, epochTolerance: EPOCH_TOLERANCE_SECONDS, afterTimeStep: Number(factor.lastTimeStep) }).catch(() => ({ valid: false as const })) : { valid: false as const };
    // A TOTP result carries the step it matched (the union type also covers HOTP results).
    if (result.valid && 'timeStep' in result && (await this.repo.useTimeStep(userId, result.timeStep))) return;
    await this.limits.hit('mfa', { user: userId, ip: client.ip });
    throw codeInvalid();
  }
}

interface Factor {
  secret: string;
  confirmedAt: Date | null;
  lastTimeStep: bigint;
}
