import type { Actor } from '#libs/events';

/** Who is calling, resolved once per request by the AuthGuard from its credentials. */
export type Caller =
  | { kind: 'anonymous' }
  /**
   * `emailVerified`: whether the user has verified their email address (rules read it as
   * `@auth.emailVerified`; absent counts as false). `aal`/`amr`: how the session was signed in
   * (from the access token; absent in tokens issued before they existed).
   */
  | {
      kind: 'user';
      userId: string;
      email: string;
      roles: string[];
      sessionId: string;
      emailVerified?: boolean;
      aal?: 'aal1' | 'aal2';
      amr?: string[];
    }
  /** `scopes`: an admin-created key's scopes (absent or empty = full service access; see api-key-scopes.ts). */
  | { kind: 'service'; keyId: string; scopes?: string[] };

export const ANONYMOUS: Caller = { kind: 'anonymous' };

/** Admin users and the service role may do everything an admin may. */
export function isAdmin(caller: Caller): boolean {
  return caller.kind === 'service' || (caller.kind === 'user' && caller.roles.includes('admin'));
}

export function hasRole(caller: Caller, role: string): boolean {
  return caller.kind === 'user' && caller.roles.includes(role);
}

export function actorOf(caller: Caller): Actor {
  if (caller.kind === 'user') return { type: 'user', id: caller.userId };
  if (caller.kind === 'service') return { type: 'service', keyId: caller.keyId };
  return { type: 'anonymous' };
}

/** How a caller is named in audit rows and `createdBy` columns: `user:<id>`, `service:<keyId>` or `anonymous`. */
export function actorLabel(caller: Caller): string {
  if (caller.kind === 'user') return `user:${caller.userId}`;
  if (caller.kind === 'service') return `service:${caller.keyId}`;
  return 'anonymous';
}

/**
 * The ACL entries that name this caller (document and file ACLs alike): `*` for everyone,
 * plus `user:<id>` and `role:<name>` for each role of a signed-in user.
 */
export function principalsOf(caller: Caller): string[] {
  if (caller.kind !== 'user') return ['*'];
  return ['*', `user:${caller.userId}`, ...caller.roles.map((role) => `role:${role}`)];
}
