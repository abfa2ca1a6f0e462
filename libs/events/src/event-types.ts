/** Who caused a change, as recorded in events and run logs. */
export type Actor = { type: 'user'; id: string } | { type: 'service'; keyId: string } | { type: 'anonymous' };

/**
 * Every event the outbox carries, by stable type name, with its payload. Functions'
 * triggers subscribe to these (see docs/functions.md).
 */
export interface EventPayloads {
  /** `provider`: set when the account was created by signing in with that provider. */
  'auth.signup': { user: { id: string; email: string; roles: string[]; createdAt: string }; provider?: string; upgradedFrom?: 'anonymous' };
  /** A provider identity linked to or unlinked from an account. */
  'auth.identity': { operation: 'link' | 'unlink'; userId: string; provider: string };
  /** A user confirmed a TOTP second factor. */
  'auth.mfa': { operation: 'mfa_enrolled'; userId: string; factor: 'totp' };
  'db.change': {
    collection: string;
    operation: 'create' | 'update' | 'delete';
    documentId: string;
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    actor: Actor;
  };
  'storage.change': {
    bucket: string;
    operation: 'upload' | 'delete';
    file: { id: string; bucket: string; key: string; size: number; contentType: string; ownerId: string | null };
    actor: Actor;
  };
}

export type EventType = keyof EventPayloads;
