import { describe, expect, it } from 'vitest';
import type { Caller } from '../auth/caller.js';
import { aclAllows, canRead, canWrite, readFilterSql, ruleAllows, writeFilterSql } from './permissions.js';
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
    const doc = { ownerId, acl: null };
    expect([owner, other, anonymous].map((c) => ruleAllows(c, 'owner', doc))).toEqual([true, false, false]);
    expect([editor, other, serviceRole].map((c) => ruleAllows(c, 'role:editor', doc))).toEqual([true, false, true]);
    expect([owner, anonymous, serviceRole].map((c) => ruleAllows(c, 'admin', doc))).toEqual([false, false, true]);
    expect([owner, anonymous].map((c) => ruleAllows(c, 'authenticated', { ownerId: null, acl: null }))).toEqual([true, false]);
    // A list allows what any of its items allows.
    expect([owner, other, editor, anonymous].map((c) => ruleAllows(c, ['owner', 'role:editor'], doc))).toEqual([true, false, true, false]);
  });

  it('a rule list that a later shorthand allows whole leaves no parameter of an earlier item bound', () => {
    // ["owner", "role:editor"] for an editor: `owner` binds the caller's id, then the role allows everything.
    const params = new Params();
    const sql = readFilterSql(editor, ['owner', 'role:editor'], params);
    const used = new Set([...(sql as string).matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    expect([...used].sort((x, y) => x - y)).toEqual(params.values.map((_, i) => i + 1));
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

  it('the write check in SQL (one-statement writes): the rule under the method, and the acl write list', () => {
    const params = new Params();
    expect(writeFilterSql(anonymous, 'owner', params, 'd', { fields: [] }, { method: 'PATCH' })).toBe(false);
    expect(writeFilterSql(serviceRole, 'admin', params, 'd', { fields: [] }, { method: 'DELETE' })).toBe('TRUE');
    expect(writeFilterSql(owner, 'owner', params, 'd', { fields: [] }, { method: 'PATCH' })).toBe(
      `d.owner_id = $1::uuid AND (d.acl IS NULL OR NOT (d.acl ? 'write') OR d.owner_id = $2::uuid OR (d.acl->'write') ?| $3::text[])`,
    );
    // `@request.method` is bound; `@data` (the document after the write) is not known here: the item allows nothing.
    const def = { fields: [{ name: 'status', type: 'string' as const }] };
    const byMethod = new Params();
    expect(writeFilterSql(other, { '@request.method': 'DELETE' }, byMethod, 'd', def, { method: 'DELETE' })).toContain("'request'");
    expect(JSON.stringify(byMethod.values)).toContain('DELETE');
    expect(writeFilterSql(other, { status: '@data.status' }, new Params(), 'd', def, { method: 'PATCH' })).toBe(false);
  });
});

describe('expression rules', () => {
  const def = { fields: [{ name: 'public', type: 'boolean' as const }, { name: 'status', type: 'string' as const }] };
  const publicOrMine = { $or: [{ public: true }, { ownerId: '@auth.id' }] };

  it('compile to SQL with the caller bound; an empty variable matches nothing', () => {
    const params = new Params();
    expect(readFilterSql(owner, publicOrMine, params, 'd', def)).toBe(
      `((((d.data->>'public') = $1::text) OR (d.owner_id = $2::uuid))) AND (d.acl IS NULL OR NOT (d.acl ? 'read') OR d.owner_id = $3::uuid OR (d.acl->'read') ?| $4::text[])`,
    );
    expect(params.values.slice(0, 2)).toEqual(['true', ownerId]);
    const anon = new Params();
    expect(readFilterSql(anonymous, publicOrMine, anon, 'd', def)).toContain('OR (NULL)');
    // A shorthand that allows everything makes the expressions moot (and binds nothing for them).
    const editorParams = new Params();
    expect(readFilterSql(editor, [publicOrMine, 'role:editor'], editorParams, 'd', def)).not.toContain('public');
    const editorId = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
    expect(editorParams.values).toEqual([editorId, ['*', `user:${editorId}`, 'role:editor']]);
  });

  it('evaluate in code over the stored and the incoming document', () => {
    const draft = { ownerId, acl: null, data: { public: false, status: 'draft' } };
    expect([owner, other, anonymous, serviceRole].map((c) => canRead(c, publicOrMine, draft, def))).toEqual([true, false, false, true]);
    const onlyPublish = { $or: [{ status: '@data.status' }, { status: 'draft', '@data.status': 'published' }] };
    const write = (status: string) => canWrite(owner, onlyPublish, draft, def, { method: 'PATCH', data: { ...draft.data, status } });
    expect(['draft', 'published', 'archived'].map(write)).toEqual([true, true, false]);
    // Without the definition, an expression allows nothing (fail closed); a shorthand beside it still answers.
    expect(canRead(owner, publicOrMine, draft)).toBe(false);
    expect(canRead(owner, [publicOrMine, 'owner'], draft)).toBe(true);
  });
});
