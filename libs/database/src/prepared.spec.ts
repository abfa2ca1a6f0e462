import { sql } from 'kysely';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { prepare } from './prepared.js';

/** A queryable that records what it was asked to run. */
function recorder(): { on: pg.Pool; calls: pg.QueryConfig[] } {
  const calls: pg.QueryConfig[] = [];
  const on = {
    query: (config: pg.QueryConfig) => {
      calls.push(config);
      return Promise.resolve({ rows: [{ id: 'x' }] });
    },
  } as unknown as pg.Pool; // only query(config) is used by Prepared.run
  return { on, calls };
}

describe('prepare', () => {
  it('builds once and binds the arguments in the places Kysely put them, constants kept', async () => {
    const stmt = prepare((db, a: { runId: string; status: string; n: number }) =>
      db
        .updateTable('function_runs')
        .set((eb) => ({ status: a.status, attempts: eb('attempts', '+', 1), duration_ms: a.n }))
        .where('id', '=', a.runId)
        .where('status', 'in', ['queued', 'running'])
        .returning('id'),
    );
    expect(stmt.text).toMatch(/^update "function_runs" set/);
    expect(stmt.name).toMatch(/^k_[0-9a-f]{40}$/);
    const { on, calls } = recorder();
    const rows = await stmt.run(on, { runId: 'r1', status: 'succeeded', n: 7 });
    expect(rows).toEqual([{ id: 'x' }]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ name: stmt.name, text: stmt.text, values: ['succeeded', 1, 7, 'r1', 'queued', 'running'] });
    await stmt.run(on, { runId: 'r2', status: 'failed', n: 9 });
    expect(calls[1]!.values).toEqual(['failed', 1, 9, 'r2', 'queued', 'running']);
  });

  it('binds an argument used twice, and arguments inside sql fragments', async () => {
    const stmt = prepare((db, a: { id: string; roles: string[] }) =>
      db.selectFrom('users').select('id').where(sql<boolean>`id = ${a.id}::uuid OR ${a.id}::uuid IS NULL`).where(sql<boolean>`roles && ${a.roles}::text[]`),
    );
    const { on, calls } = recorder();
    await stmt.run(on, { id: 'u', roles: ['admin'] });
    expect(calls[0]!.values).toEqual(['u', 'u', ['admin']]);
  });

  it('refuses an argument that did not reach Kysely as a value', () => {
    expect(() => prepare((db, a: { logs: string[] }) => db.updateTable('function_runs').set({ logs: JSON.stringify(a.logs) }).where('id', '=', 'x'))).toThrow(
      /not passed as values/,
    );
  });

  it('names a statement by its text: equal statements share a name, different ones do not', () => {
    const a = prepare((db, x: { id: string }) => db.selectFrom('users').select('id').where('id', '=', x.id));
    const b = prepare((db, x: { id: string }) => db.selectFrom('users').select('id').where('id', '=', x.id));
    const c = prepare((db, x: { id: string }) => db.selectFrom('users').select('email').where('id', '=', x.id));
    expect(a.name).toBe(b.name);
    expect(c.name).not.toBe(a.name);
  });
});
