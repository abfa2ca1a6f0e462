import { enc, type Http } from './http.js';
import type { CallerRun, Invocation, Page, Run } from './types.js';

export type RunStatus = Run['status'];
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'dead'];

export interface RunFilter {
  status?: RunStatus;
  trigger?: Run['trigger'];
  eventId?: string;
  limit?: number;
  cursor?: string | null;
}

/** Invoking functions and following their runs. */
export class FunctionsClient {
  constructor(protected readonly http: Http) {}

  /**
   * Runs a function through its http trigger with `payload` as `event.payload`. Waits for the
   * outcome (`status` succeeded, failed or timed_out, with `result` or `error`); with
   * `{ async: true }` answers at once with the queued run's id.
   */
  invoke<R = unknown>(name: string, payload?: unknown, options: { async?: boolean; signal?: AbortSignal } = {}): Promise<Invocation & { result?: R }> {
    return this.http.json<Invocation & { result?: R }>({
      method: 'POST',
      path: `/v1/functions/${enc(name)}/invoke`,
      query: { async: options.async ? 'true' : undefined },
      body: payload,
      signal: options.signal,
    });
  }

  /** One run: status, attempts, duration, logs, result or error (admin or service key). */
  getRun(id: string): Promise<Run> {
    return this.http.json<Run>({ method: 'GET', path: `/v1/functions/runs/${enc(id)}` });
  }

  /**
   * A run the signed-in user invoked (status, result, error; its logs when the function's
   * http trigger has `callerLogs`). A run of someone else answers 404.
   */
  ownRun(id: string): Promise<CallerRun> {
    return this.http.json<CallerRun>({ method: 'GET', path: `/v1/functions/runs/${enc(id)}` });
  }

  /** The runs the signed-in user invoked, newest first. */
  ownRuns(filter: RunFilter & { function?: string } = {}): Promise<Page<CallerRun>> {
    return this.http.json<Page<CallerRun>>({ method: 'GET', path: '/v1/functions/runs', query: { ...filter, cursor: filter.cursor ?? undefined } });
  }

  /** The log lines of a run. */
  async logs(runId: string): Promise<Run['logs']> {
    return (await this.getRun(runId)).logs;
  }

  /** Polls a run until it has finished (or `timeoutMs` passed: then the last state). */
  async waitForRun(id: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<Run> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const run = await this.getRun(id);
      if (FINAL_RUN_STATUSES.includes(run.status) || Date.now() >= deadline) return run;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    }
  }

  /** Runs of one function (or of all with `name` undefined), newest first. */
  runs(name: string | undefined, filter: RunFilter = {}): Promise<Page<Run>> {
    return this.http.json<Page<Run>>({
      method: 'GET',
      path: name === undefined ? '/v1/functions/runs' : `/v1/functions/${enc(name)}/runs`,
      query: { ...filter, cursor: filter.cursor ?? undefined },
    });
  }
}
