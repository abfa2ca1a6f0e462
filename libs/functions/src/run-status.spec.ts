import { describe, expect, it } from 'vitest';
import { attemptVerdict } from './run-status.js';

const attempt = (outcome: 'succeeded' | 'failed' | 'timed_out', n: number, maxAttempts: number, jobAttemptsMade = n - 1, jobAttempts = maxAttempts) =>
  attemptVerdict({ outcome, attempt: n, maxAttempts, jobAttemptsMade, jobAttempts });

describe('attemptVerdict', () => {
  it('a success is final, on any attempt', () => {
    expect(attempt('succeeded', 1, 3)).toEqual({ status: 'succeeded', retry: false });
    expect(attempt('succeeded', 3, 3)).toEqual({ status: 'succeeded', retry: false });
  });

  it('a failure or timeout with attempts left keeps its status and is retried', () => {
    expect(attempt('failed', 1, 3)).toEqual({ status: 'failed', retry: true });
    expect(attempt('timed_out', 2, 3)).toEqual({ status: 'timed_out', retry: true });
  });

  it('the last failed attempt of a run with retries leaves it dead', () => {
    expect(attempt('failed', 3, 3)).toEqual({ status: 'dead', retry: false });
    expect(attempt('timed_out', 3, 3)).toEqual({ status: 'dead', retry: false });
  });

  it('a run without retries keeps failed or timed_out', () => {
    expect(attempt('failed', 1, 1)).toEqual({ status: 'failed', retry: false });
    expect(attempt('timed_out', 1, 1)).toEqual({ status: 'timed_out', retry: false });
  });

  it("the job's own attempt limit ends the run too (a job with fewer attempts than the run)", () => {
    expect(attempt('failed', 1, 3, 0, 1)).toEqual({ status: 'dead', retry: false });
    expect(attempt('failed', 2, 3, 1, 3)).toEqual({ status: 'failed', retry: true });
  });

  it('an attempt past the run count (a stalled job run again) is the last', () => {
    expect(attempt('failed', 4, 3, 1, 3)).toEqual({ status: 'dead', retry: false });
  });
});
