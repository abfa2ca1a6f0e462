import { describe, expect, it } from 'vitest';
import { type AttemptStatus, attemptVerdict } from './run-status.js';

type Row = [why: string, outcome: AttemptStatus, attempt: number, maxAttempts: number, jobAttemptsMade: number, jobAttempts: number, status: string, retry: boolean];

describe('attemptVerdict', () => {
  it.each<Row>([
    ['a success is final (first attempt)', 'succeeded', 1, 3, 0, 3, 'succeeded', false],
    ['a success is final (last attempt)', 'succeeded', 3, 3, 2, 3, 'succeeded', false],
    ['a failure with attempts left is retried', 'failed', 1, 3, 0, 3, 'failed', true],
    ['a timeout with attempts left is retried', 'timed_out', 2, 3, 1, 3, 'timed_out', true],
    ['the last failure of a run with retries leaves it dead', 'failed', 3, 3, 2, 3, 'dead', false],
    ['the last timeout of a run with retries leaves it dead', 'timed_out', 3, 3, 2, 3, 'dead', false],
    ['a run without retries keeps failed', 'failed', 1, 1, 0, 1, 'failed', false],
    ['a run without retries keeps timed_out', 'timed_out', 1, 1, 0, 1, 'timed_out', false],
    ["the job's own attempt limit ends the run too", 'failed', 1, 3, 0, 1, 'dead', false],
    ['an attempt past the run count (a stalled job run again) is the last', 'failed', 4, 3, 1, 3, 'dead', false],
  ])('%s', (_why, outcome, attempt, maxAttempts, jobAttemptsMade, jobAttempts, status, retry) => {
    expect(attemptVerdict({ outcome, attempt, maxAttempts, jobAttemptsMade, jobAttempts })).toEqual({ status, retry });
  });
});
