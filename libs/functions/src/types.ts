import type { Actor, EventPayloads } from '#libs/events';

/** Statuses of a run. `failed`/`timed_out` with attempts left means a retry is scheduled. */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'dead'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Statuses after which nothing more happens to a run (it can be replayed). */
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'dead'];

export const TRIGGER_TYPES = ['http', 'db', 'storage', 'auth', 'schedule'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/**
 * Who may invoke a function through `POST /functions/:name/invoke`: anyone, a signed-in
 * user, a service key only, or a user with a role. Admin users and service keys may always
 * invoke (a manual run). Default `authenticated`.
 */
export type HttpAccess = 'public' | 'authenticated' | 'service' | `role:${string}`;
export const DEFAULT_HTTP_ACCESS: HttpAccess = 'authenticated';

/** Auth events a function can subscribe to (docs/functions.md). */
export const AUTH_EVENT_NAMES = ['signup', 'link', 'unlink', 'mfa_enrolled'] as const;
export type AuthEventName = (typeof AUTH_EVENT_NAMES)[number];

export type Trigger =
  | { type: 'http'; access?: HttpAccess; callerLogs?: boolean; runAs?: 'function' | 'caller' }
  | { type: 'db'; collection: string; events: ('create' | 'update' | 'delete')[] }
  | { type: 'storage'; bucket: string; events: ('upload' | 'delete')[] }
  | { type: 'auth'; events: AuthEventName[] }
  | { type: 'schedule'; cron: string; timezone?: string };

/** The user in an http event: the caller when it is a signed-in user, else null. */
export interface EventUser {
  id: string;
  email: string;
  roles: string[];
  /** How the caller signed in: `aal2` after a second factor (a function can require it). */
  aal?: 'aal1' | 'aal2';
  amr?: string[];
}

/** The `event` argument a handler receives, by trigger type (docs/functions.md). */
export type FunctionEvent =
  | { id: string; type: 'http'; payload: unknown; user: EventUser | null; actor: Actor }
  | ({ id: string; type: 'db' } & EventPayloads['db.change'])
  | { id: string; type: 'storage'; bucket: string; operation: 'upload' | 'delete'; file: Record<string, unknown>; actor: Actor }
  | { id: string; type: 'auth'; operation: 'signup'; user: Record<string, unknown>; provider?: string }
  | { id: string; type: 'auth'; operation: 'link' | 'unlink'; userId: string; provider: string }
  | { id: string; type: 'auth'; operation: 'mfa_enrolled'; userId: string; factor: 'totp' }
  | { id: string; type: 'schedule'; scheduledAt: string };

/** One captured log line of a run. */
export interface RunLogLine {
  level: 'log' | 'info' | 'warn' | 'error' | 'debug';
  message: string;
  at: string;
}

/** The error of a failed run; `code` is stable (docs/functions.md lists them). */
export interface RunError {
  code: string;
  message: string;
  stack?: string;
}

/**
 * A trigger as stored by an older version: http access `user` is now `authenticated`, and
 * `admin` is `role:admin` (migration 20261129200000 renamed the trigger rows alike).
 */
export function normalizeTrigger(t: Trigger): Trigger {
  if (t.type !== 'http') return t;
  const access = t.access as string | undefined;
  if (access === 'user') return { ...t, access: 'authenticated' };
  if (access === 'admin') return { ...t, access: 'role:admin' };
  return t;
}
