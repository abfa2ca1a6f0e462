import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Context } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { BaasError, type Invocation, NetworkError, type Run } from '../sdk.js';

const FAILED: ReadonlySet<string> = new Set(['failed', 'timed_out', 'dead']);
const FINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'timed_out', 'dead']);

/** Reads a JSON file (`-` = stdin) given to --data / --event. */
export function readJsonArg(ctx: Context, file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : resolve(ctx.io.cwd, file), 'utf8');
  } catch (err) {
    throw new CliError(`Cannot read ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT.USAGE);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`, EXIT.USAGE);
  }
}

export async function invoke(ctx: Context, name: string, options: { data?: string; async?: boolean }): Promise<void> {
  const payload = options.data === undefined ? undefined : readJsonArg(ctx, options.data, '--data');
  const outcome = await ctx.functions.invoke(name, payload, { async: options.async });
  printOutcome(ctx.out, name, await withLogs(ctx, outcome));
}

/** A finished run's outcome with its log lines (one more request), so the output shows what the function logged. */
async function withLogs(ctx: Context, outcome: Invocation): Promise<Invocation & { logs?: Run['logs'] }> {
  if (!FINAL.has(outcome.status)) return outcome;
  return { ...outcome, logs: (await ctx.functions.run(outcome.runId)).logs };
}

export async function retry(ctx: Context, runId: string): Promise<void> {
  const outcome = await ctx.functions.retry(runId);
  printOutcome(ctx.out, `replay of ${runId}`, await withLogs(ctx, outcome));
}

function printOutcome(out: Output, label: string, outcome: Invocation & { logs?: Run['logs'] }): void {
  out.result(outcome, () => {
    const c = out.color;
    for (const entry of outcome.logs ?? []) out.line(`${c.dim(entry.at)} ${levelOf(out, entry.level)} ${entry.message}`);
    const status = FAILED.has(outcome.status) ? c.red(outcome.status) : outcome.status === 'succeeded' ? c.green(outcome.status) : c.cyan(outcome.status);
    out.line(`${label}: ${status}${outcome.durationMs !== null ? ` in ${outcome.durationMs} ms` : ''} ${c.dim(`(run ${outcome.runId})`)}`);
    if (outcome.error) out.line(`${c.red(outcome.error.code)} ${outcome.error.message}`);
    if (outcome.result !== undefined) out.line(JSON.stringify(outcome.result, null, 2));
  });
  if (FAILED.has(outcome.status)) {
    throw new CliError(`The run ${outcome.status}${outcome.error ? `: ${outcome.error.code}` : ''}`, EXIT.RUN_FAILED);
  }
}

export async function listRuns(ctx: Context, name: string | undefined, options: { status?: string; limit?: string }): Promise<void> {
  const limit = parseLimit(options.limit, 20);
  const page = await ctx.functions.runs(name, { status: options.status as Run['status'] | undefined, limit });
  ctx.out.result(page, () => {
    if (page.items.length === 0) ctx.out.line('No runs');
    for (const run of page.items) ctx.out.line(runLine(ctx.out, run));
  });
}

function runLine(out: Output, run: Run): string {
  const c = out.color;
  const status = FAILED.has(run.status) ? c.red(run.status) : run.status === 'succeeded' ? c.green(run.status) : c.cyan(run.status);
  const took = run.durationMs === null ? '' : ` ${run.durationMs} ms`;
  return `${run.createdAt} ${run.id} ${run.function} v${run.version} ${run.trigger} ${status}${took} attempts ${run.attempts}/${run.maxAttempts}${run.error ? ` ${c.red(run.error.code)}: ${run.error.message}` : ''}`;
}

export function parseLimit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new CliError(`--limit must be a whole number from 1 to 100 (got ${value})`, EXIT.USAGE);
  return n;
}

/**
 * `logs [name]`: the log lines and outcome of recent runs, oldest first. With --follow, keeps
 * polling and prints new lines and status changes as they happen, until Ctrl-C.
 */
export async function logs(ctx: Context, name: string | undefined, options: { follow?: boolean; limit?: string; interval?: string }): Promise<void> {
  const limit = parseLimit(options.limit, options.follow ? 20 : 10);
  const interval = options.interval === undefined ? 1000 : Number(options.interval);
  if (!Number.isFinite(interval) || interval < 50) throw new CliError('--interval is milliseconds, at least 50', EXIT.USAGE);
  const printed = new Map<string, { lines: number; status: string }>();
  const api = ctx.functions;

  const poll = async (show: boolean) => {
    const page = await api.runs(name, { limit });
    for (const run of [...page.items].reverse()) {
      const seen = printed.get(run.id);
      if (seen && FINAL.has(seen.status)) continue;
      const fromLine = seen?.lines ?? 0;
      if (show) {
        for (const entry of run.logs.slice(fromLine)) {
          if (ctx.out.json) ctx.out.event({ type: 'log', runId: run.id, function: run.function, ...entry });
          else ctx.out.line(`${ctx.out.color.dim(entry.at)} ${ctx.out.color.cyan(run.function)} ${ctx.out.color.dim(run.id.slice(0, 8))} ${levelOf(ctx.out, entry.level)} ${entry.message}`);
        }
        if (run.status !== seen?.status) {
          if (ctx.out.json) ctx.out.event({ type: 'status', runId: run.id, function: run.function, status: run.status, durationMs: run.durationMs, error: run.error });
          else ctx.out.line(runLine(ctx.out, run));
        }
      }
      printed.set(run.id, { lines: run.logs.length, status: run.status });
    }
  };

  if (!options.follow) {
    const page = await api.runs(name, { limit });
    const runs = [...page.items].reverse();
    if (ctx.out.json) return ctx.out.result(runs.map((r) => ({ id: r.id, function: r.function, status: r.status, durationMs: r.durationMs, logs: r.logs, error: r.error })));
    if (runs.length === 0) ctx.out.line('No runs');
    for (const run of runs) {
      for (const entry of run.logs) ctx.out.line(`${ctx.out.color.dim(entry.at)} ${ctx.out.color.cyan(run.function)} ${ctx.out.color.dim(run.id.slice(0, 8))} ${levelOf(ctx.out, entry.level)} ${entry.message}`);
      ctx.out.line(runLine(ctx.out, run));
    }
    return;
  }

  // Runs that had finished before we started are history: only what happens from now on is shown.
  await poll(false);
  for (const [id, seen] of printed) if (!FINAL.has(seen.status)) printed.set(id, { ...seen, lines: 0, status: '' });
  // On stderr also with --json (stdout stays JSON): scripts may wait for it before causing runs.
  ctx.out.streams.stderr.write(`Following runs${name ? ` of ${name}` : ''} (Ctrl-C to stop)\n`);
  const signal = ctx.io.signal;
  let unreachable = false;
  while (!signal?.aborted) {
    try {
      await poll(true);
      if (unreachable) ctx.io.stderr.write('The server answers again\n');
      unreachable = false;
    } catch (err) {
      // A restarting server does not end the follow: say so once, and keep asking.
      const transient = err instanceof NetworkError || (err instanceof BaasError && err.statusCode >= 500);
      if (!transient) throw err;
      if (!unreachable) ctx.out.warn(`${err.message}; still trying`);
      unreachable = true;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval);
      signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

function levelOf(out: Output, level: string): string {
  const padded = level.padEnd(5);
  return level === 'error' ? out.color.red(padded) : level === 'warn' ? out.color.yellow(padded) : out.color.dim(padded);
}
