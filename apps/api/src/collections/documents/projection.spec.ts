import { describe, expect, it } from 'vitest';
import { AppException } from '../../common/app-exception.js';
import type { CollectionDef } from '../definition.js';
import { MAX_EXPAND, projected, projectFields, readShape } from './projection.js';

const def = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'string' },
    { name: 'author', type: 'reference', collection: 'users' },
    { name: 'team', type: 'reference', collection: 'teams' },
  ],
} as unknown as CollectionDef;

function fieldsError(fn: () => unknown): { code: string; path?: string } | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppException) return { code: err.code, path: err.details?.[0]?.path };
    throw err;
  }
  return undefined;
}

describe('projection and expansion parameters', () => {
  it('reads fields and expand as comma lists, without blanks or repeats', () => {
    expect(readShape(def, {})).toEqual({ project: undefined, expand: [] });
    expect(readShape(def, { fields: ' title, createdAt ,', expand: 'author,author' })).toEqual({ project: ['title', 'createdAt'], expand: ['author'] });
  });

  it('refuses unknown fields, non-reference expansions and too many names (400 INVALID_FIELDS)', () => {
    expect(fieldsError(() => readShape(def, { fields: 'nope' }))).toEqual({ code: 'INVALID_FIELDS', path: 'fields' });
    expect(fieldsError(() => readShape(def, { expand: 'title' }))).toEqual({ code: 'INVALID_FIELDS', path: 'expand' });
    expect(fieldsError(() => readShape(def, { expand: Array(MAX_EXPAND + 1).fill('team').join(',') }))).toEqual({ code: 'INVALID_FIELDS', path: 'expand' });
  });

  it('keeps id, version, the projected and the expanded fields', () => {
    const doc = { id: 'a', version: 2, title: 't', author: 'u', team: 'x', ownerId: null };
    expect(projectFields(doc, ['title'])).toEqual({ id: 'a', version: 2, title: 't' });
    expect(projected([doc], { project: ['title'], expand: ['team'] })).toEqual([{ id: 'a', version: 2, title: 't', team: 'x' }]);
    expect(projected([doc], { expand: ['team'] })[0]).toBe(doc);
  });
});
