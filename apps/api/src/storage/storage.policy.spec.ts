import { describe, expect, it } from 'vitest';
import type { Caller } from '../auth/caller.js';
import { canRead, canWrite, type FileAccess, listFilterFor } from './storage.policy.js';

const OWNER = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const user = (userId: string, roles: string[] = []): Caller => ({ kind: 'user', userId, email: 'u@example.test', roles, sessionId: 's' });
const anonymous: Caller = { kind: 'anonymous' };
const service: Caller = { kind: 'service', keyId: 'k' };
const file = (over: Partial<FileAccess> = {}): FileAccess => ({ ownerId: OWNER, aclRead: [], aclWrite: [], bucketPublic: false, ...over });

describe('storage permissions', () => {
  it('a private file is read by its owner, admins and the service role only', () => {
    expect(canRead(user(OWNER), file())).toBe(true);
    expect(canRead(user(OTHER, ['admin']), file())).toBe(true);
    expect(canRead(service, file())).toBe(true);
    expect(canRead(user(OTHER), file())).toBe(false);
    expect(canRead(anonymous, file())).toBe(false);
  });

  it('the read ACL adds users, roles, or everyone', () => {
    expect(canRead(user(OTHER), file({ aclRead: [`user:${OTHER}`] }))).toBe(true);
    expect(canRead(user(OTHER, ['staff']), file({ aclRead: ['role:staff'] }))).toBe(true);
    expect(canRead(user(OTHER, ['staffer']), file({ aclRead: ['role:staff'] }))).toBe(false);
    expect(canRead(anonymous, file({ aclRead: ['*'] }))).toBe(true);
    expect(canRead(anonymous, file({ aclRead: [`user:${OTHER}`] }))).toBe(false);
  });

  it('a public bucket is readable by anyone, but not writable', () => {
    expect(canRead(anonymous, file({ bucketPublic: true }))).toBe(true);
    expect(canWrite(anonymous, file({ bucketPublic: true }))).toBe(false);
    expect(canWrite(user(OTHER), file({ bucketPublic: true }))).toBe(false);
  });

  it('writing needs ownership, admin, the service role or the write ACL; a writer may also read', () => {
    expect(canWrite(user(OWNER), file())).toBe(true);
    expect(canWrite(service, file())).toBe(true);
    expect(canWrite(user(OTHER), file({ aclRead: [`user:${OTHER}`] }))).toBe(false);
    expect(canWrite(user(OTHER), file({ aclWrite: [`user:${OTHER}`] }))).toBe(true);
    expect(canRead(user(OTHER), file({ aclWrite: [`user:${OTHER}`] }))).toBe(true);
    expect(canWrite(anonymous, file({ aclWrite: ['*'] }))).toBe(false);
    expect(canWrite(user(OTHER), file({ ownerId: null }))).toBe(false);
  });

  it('list filters: none for public buckets and admins, else who the caller is', () => {
    expect(listFilterFor(anonymous, true)).toBeNull();
    expect(listFilterFor(service, false)).toBeNull();
    expect(listFilterFor(user(OTHER, ['admin']), false)).toBeNull();
    expect(listFilterFor(user(OTHER, ['staff']), false)).toEqual({
      userId: OTHER,
      entries: ['*', `user:${OTHER}`, 'role:staff'],
      writeEntries: ['*', `user:${OTHER}`, 'role:staff'],
    });
    expect(listFilterFor(anonymous, false)).toEqual({ entries: ['*'], writeEntries: [] });
  });
});
