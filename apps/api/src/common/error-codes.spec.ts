import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODE_BY_STATUS } from './app-exception.js';
import { ERROR_CODES } from './error-codes.js';

const root = join(import.meta.dirname, '..', '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .map((f) => join(root, dir, f));
}

/** Codes written in the source: the literals of `new AppException(...)` calls and `code: '...'` properties. */
function thrownCodes(): Set<string> {
  const found = new Set<string>();
  for (const file of [...sources('apps/api/src'), join(root, 'libs/database/src/database-errors.ts')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bcode:\s*'([A-Z][A-Z0-9_]+)'/g)) found.add(m[1]!);
    // The second argument (the code) up to the next comma: a literal, or a conditional of literals.
    for (const m of text.matchAll(/AppException\(\s*[\w.]+\s*,\s*([^,]+),/g)) {
      for (const lit of m[1]!.matchAll(/'([A-Z][A-Z0-9_]+)'/g)) found.add(lit[1]!);
    }
  }
  for (const code of Object.values(CODE_BY_STATUS)) found.add(code);
  return found;
}

describe('ERROR_CODES', () => {
  it('lists every code the api throws (so the OpenAPI enum is complete)', () => {
    const found = thrownCodes();
    expect(found.size).toBeGreaterThan(40);
    expect(found).toContain('INVALID_SORT'); // inside a conditional expression
    expect(found).toContain('COLLECTION_REFERENCED'); // on its own line
    const missing = [...found].filter((c) => !(ERROR_CODES as readonly string[]).includes(c));
    expect(missing, 'add these to apps/api/src/common/error-codes.ts').toEqual([]);
  });

  it('is sorted and has no duplicates', () => {
    expect([...ERROR_CODES]).toEqual([...new Set(ERROR_CODES)].sort());
  });
});
