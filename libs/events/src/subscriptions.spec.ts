import { describe, expect, it } from 'vitest';
import { hasSubscriberSql, subscriptionKey } from './subscriptions.js';

const actor = { type: 'anonymous' } as const;

describe('subscriptionKey', () => {
  it('maps each event type to the trigger that listens to it', () => {
    expect(subscriptionKey('db.change', { collection: 'posts', operation: 'update', documentId: 'd', before: null, after: null, actor })).toEqual({
      kind: 'db',
      target: 'posts',
      operation: 'update',
    });
    const file = { id: 'f', bucket: 'img', key: 'k', size: 1, contentType: 'image/png', ownerId: null };
    expect(subscriptionKey('storage.change', { bucket: 'img', operation: 'delete', file, actor })).toEqual({ kind: 'storage', target: 'img', operation: 'delete' });
    const user = { id: 'u', email: 'a@b.c', roles: [], createdAt: '2026-01-01T00:00:00.000Z' };
    expect(subscriptionKey('auth.signup', { user })).toEqual({ kind: 'auth', target: null, operation: 'signup' });
  });
});

describe('hasSubscriberSql', () => {
  it('matches type, target (null for auth) and operation in function_triggers', () => {
    expect(hasSubscriberSql('$3', '$4::text', "'create'")).toBe(
      "EXISTS (SELECT 1 FROM function_triggers t WHERE t.type = $3 AND t.target IS NOT DISTINCT FROM $4::text AND 'create' = ANY(t.events))",
    );
  });
});
