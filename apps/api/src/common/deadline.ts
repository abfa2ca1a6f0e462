/**
 * Waits for `work` until `signal` aborts (e.g. `AbortSignal.timeout(ms)`), for calls that take
 * no signal themselves (a pg query, a Redis ping, a BullMQ add). On abort it rejects with
 * `new Error(message)`; `work` itself keeps running and a late rejection of it is ignored.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, message: string): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(new Error(message));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(message));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
