import { describe, expect, it } from 'vitest';
import type { Caller } from '../auth/caller.js';
import { aclAllows, canRead, readFilterSql, ruleAllows } from './permissions.js';
import { Params } from './sql.js';

const ownerId = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const user = (id: string, roles: string[] = []): Caller => ({ kind: 'user', userId: id, email: 'x@y', roles, sessionId: 's' });
const owner = user(ownerId);
const other = user('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
const editor = user('cccccccc-cccc-4ccc-8ccc-cccccccccccc', ['editor']);
const anonymous: Caller = { kind: 'anonymous' };
const serviceRole: Caller = { kind: 'service', keyId: 'k' };

describe('permissions', () => {
  it('rules', () => {
    expect([owner, other, anonymous].map((c) => ruleAllows(c, 'owner', ownerId))).toEqual([true, false, false]);
    expect([editor, other, serviceRole].map((c) => ruleAllows(c, 'role:editor', ownerId))).toEqual([true, false, true]);
    expect([owner, anonymous, serviceRole].map((c) => ruleAllows(c, 'admin', ownerId))).toEqual([false, false, true]);
    expect([owner, anonymous].map((c) => ruleAllows(c, 'authenticated', null))).toEqual([true, false]);
  });

  it('an acl narrows; the owner and admins always pass it', () => {
    const acl = { read: ['role:editor'] };
    expect([owner, other, editor, anonymous, serviceRole].map((c) => aclAllows(c, acl, ownerId, 'read'))).toEqual([true, false, true, false, true]);
    expect(aclAllows(other, acl, ownerId, 'write')).toBe(true); // no write list: not narrowed
    expect(aclAllows(anonymous, { read: ['*'] }, null, 'read')).toBe(true);
    expect(canRead(other, 'owner', { ownerId, acl: { read: ['*'] } })).toBe(false); // an acl never widens a rule
  });

  it('the SQL form binds the caller and skips the query when nothing is visible', () => {
    const params = new Params();
    expect(readFilterSql(anonymous, 'owner', params)).toBe(false);
    expect(readFilterSql(serviceRole, 'admin', params)).toBe('TRUE');
    expect(readFilterSql(owner, 'owner', params)).toBe(
      `d.owner_id = $1::uuid AND (d.acl IS NULL OR NOT (d.acl ? 'read') OR d.owner_id = $2::uuid OR (d.acl->'read') ?| $3::text[])`,
    );
    expect(params.values).toEqual([ownerId, ownerId, ['*', `user:${ownerId}`]]);
  });
});
