import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { enqueueRun, resultOf } from './runs.js';

describe('resultOf', () => {
  const run = { id: 'r1', status: 'succeeded', durationMs: 12, result: null as unknown, error: null as unknown };

  it('answers the run id, status and duration, without a null result or error', () => {
    expect(resultOf(run)).toEqual({ runId: 'r1', status: 'succeeded', durationMs: 12 });
  });

  it('carries a result, including falsy ones', () => {
    expect(resultOf({ ...run, result: { ok: true } }).result).toEqual({ ok: true });
    expect(resultOf({ ...run, result: 0 }).result).toBe(0);
    expect(resultOf({ ...run, result: false }).result).toBe(false);
  });

  it('keeps only the code and message of an error (never its stack)', () => {
    const error = { code: 'FUNCTION_ERROR', message: 'boom', stack: 'Error: boom\n    at handler (index.ts:3:9)' };
    expect(resultOf({ ...run, status: 'dead', durationMs: null, error })).toEqual({
      runId: 'r1',
      status: 'dead',
      durationMs: null,
      error: { code: 'FUNCTION_ERROR', message: 'boom' },
    });
  });
});

describe('enqueueRun', () => {
  function fakeQueue() {
    const added: { name: string; data: unknown; opts: unknown }[] = [];
    const queue = { add: async (name: string, data: unknown, opts: unknown) => void added.push({ name, data, opts }) } as unknown as Queue;
    return { queue, added };
  }

  it('adds one job per run (jobId = run id) with exponential backoff', async () => {
    const { queue, added } = fakeQueue();
    await enqueueRun(queue, { runId: 'r1', functionId: 'f1', attempts: 3, backoffMs: 500 });
    expect(added).toEqual([
      { name: 'run', data: { runId: 'r1', functionId: 'f1' }, opts: { jobId: 'r1', attempts: 3, backoff: { type: 'exponential', delay: 500 } } },
    ]);
  });

  it('marks a synchronous invoke and leaves out what it does not know', async () => {
    const { queue, added } = fakeQueue();
    await enqueueRun(queue, { runId: 'r2', functionId: 'f1', attempts: 1, backoffMs: 1000, sync: true });
    await enqueueRun(queue, { runId: 'r3', attempts: 2, backoffMs: 1000 });
    expect(added.map((a) => a.data)).toEqual([{ runId: 'r2', functionId: 'f1', sync: true }, { runId: 'r3' }]);
  });
});
