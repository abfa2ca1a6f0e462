import { describe, expect, it } from 'vitest';
import { initWithRetry } from './storage-driver.module.js';

describe('initWithRetry', () => {
  it('retries a failing init until it succeeds, reporting each failure', async () => {
    let calls = 0;
    const failures: unknown[] = [];
    await initWithRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error(`not yet ${calls}`);
      },
      { timeoutMs: 5000, intervalMs: 1, onRetry: (err) => failures.push(err) },
    );
    expect(calls).toBe(3);
    expect(failures.map((e) => (e as Error).message)).toEqual(['not yet 1', 'not yet 2']);
  });

  it('rethrows the last error once the time is up', async () => {
    let calls = 0;
    await expect(
      initWithRetry(
        async () => {
          calls += 1;
          throw new Error(`down ${calls}`);
        },
        { timeoutMs: 30, intervalMs: 10 },
      ),
    ).rejects.toThrow(/^down \d+$/);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
