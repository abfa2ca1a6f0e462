import { describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '#libs/config';
import type { BackgroundTasks } from '../common/background-tasks.js';
import type { EmailService } from '../email/email.service.js';
import type { AuthRepository } from './auth.repository.js';
import { AuthService } from './auth.service.js';
import type { MfaChallengeStore } from './mfa/mfa-challenges.js';
import type { LiveSessionService } from './live-session.service.js';
import type { RateLimitService } from './rate-limit.service.js';
import type { TokenService } from './token.service.js';

const hashPassword = vi.hoisted(() => vi.fn(async () => 'hash'));
vi.mock('./password.js', () => ({ hashPassword, verifyPassword: vi.fn(async () => true) }));

function service(repo: Partial<AuthRepository>, background: Partial<BackgroundTasks> = {}) {
  const limits = { check: vi.fn(async () => undefined), hit: vi.fn(async () => undefined) };
  const auth = new AuthService(
    repo as AuthRepository,
    {} as TokenService,
    limits as unknown as RateLimitService,
    {} as EmailService,
    { invalidateUser: vi.fn(async () => undefined) } as unknown as LiveSessionService,
    background as BackgroundTasks,
    {} as MfaChallengeStore,
    {} as AppConfig,
  );
  return { auth, limits };
}

describe('AuthService: cheap checks first, the same path for every email', () => {
  it('an unusable reset token is refused (and counted) without hashing the new password', async () => {
    hashPassword.mockClear();
    const transaction = vi.fn();
    const { auth, limits } = service({ authTokenUsable: vi.fn(async () => false), transaction });
    await expect(auth.resetPassword('t'.repeat(43), 'a long new password', { ip: '1.2.3.4' })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(hashPassword).not.toHaveBeenCalled();
    expect(transaction).not.toHaveBeenCalled();
    expect(limits.hit).toHaveBeenCalledWith('token', { ip: '1.2.3.4' });
  });

  it('reset and magic-link requests return before looking the account up, whatever the email', async () => {
    const findUserByEmail = vi.fn();
    const run = vi.fn<(name: string, work: () => Promise<void>) => void>();
    const { auth, limits } = service({ findUserByEmail }, { run });
    await auth.requestPasswordReset('known@example.test', { ip: '1.2.3.4' });
    await auth.requestMagicLink('unknown@example.test', { ip: '1.2.3.4' });
    expect(findUserByEmail).not.toHaveBeenCalled();
    expect(run.mock.calls.map(([name]) => name)).toEqual(['password-reset request', 'magic-link request']);
    expect(limits.hit.mock.calls).toEqual([
      ['password-reset', { email: 'known@example.test', ip: '1.2.3.4' }],
      ['magic-link', { email: 'unknown@example.test', ip: '1.2.3.4' }],
    ]);
  });
});
