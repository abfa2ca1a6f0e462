import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '#libs/config';
import type { AuthRepository, SessionState } from './auth.repository.js';
import { LiveSessionService } from './live-session.service.js';

const USER = '00000000-0000-4000-8000-000000000001';
const SESSION = '00000000-0000-4000-8000-0000000000aa';
const state = (over: Partial<SessionState> = {}): SessionState => ({
  userId: USER,
  email: 'a@example.test',
  roles: ['admin'],
  emailVerified: false,
  disabled: false,
  revoked: false,
  expiresAt: Date.now() + 60_000,
  ...over,
});

function setup(cacheMs = 60_000) {
  const findSessionState = vi.fn<(id: string) => Promise<SessionState | null>>();
  const publish = vi.fn(async () => 1);
  const live = new LiveSessionService(
    { findSessionState } as unknown as AuthRepository,
    { publish } as unknown as Redis,
    { AUTH_SESSION_CACHE_MS: cacheMs, QUEUE_PREFIX: 'unit' } as AppConfig,
  );
  return { live, findSessionState, publish };
}

describe('LiveSessionService', () => {
  it('reads a session once per cache period, and again after an invalidation of its user', async () => {
    const { live, findSessionState, publish } = setup();
    findSessionState.mockResolvedValue(state());
    await live.check(SESSION, USER);
    await live.check(SESSION, USER);
    expect(findSessionState).toHaveBeenCalledTimes(1);
    findSessionState.mockResolvedValue(state({ roles: [] }));
    await live.invalidateUser(USER);
    expect(publish).toHaveBeenCalledWith('unit:auth:invalidate', USER);
    expect(await live.check(SESSION, USER)).toEqual({ email: 'a@example.test', roles: [], emailVerified: false });
  });

  it('does not cache a state read while an invalidation happened (it may predate the change)', async () => {
    const { live, findSessionState } = setup();
    let release!: (s: SessionState) => void;
    findSessionState.mockReturnValueOnce(new Promise((resolve) => (release = resolve)));
    const first = live.check(SESSION, USER);
    await live.invalidateUser(USER);
    release(state());
    await first;
    findSessionState.mockResolvedValue(state({ revoked: true }));
    await expect(live.check(SESSION, USER)).rejects.toMatchObject({ code: 'SESSION_REVOKED' });
  });

  it('refuses revoked, expired, disabled, unknown and foreign sessions', async () => {
    for (const [found, userId] of [
      [state({ revoked: true }), USER],
      [state({ expiresAt: Date.now() - 1 }), USER],
      [state({ disabled: true }), USER],
      [null, USER],
      [state(), '00000000-0000-4000-8000-000000000002'],
    ] as const) {
      const { live, findSessionState } = setup(0);
      findSessionState.mockResolvedValue(found);
      await expect(live.check(SESSION, userId)).rejects.toMatchObject({ code: 'SESSION_REVOKED' });
    }
  });
});
