import { randomUUID } from 'node:crypto';
import { bundleFunction } from '../bundle.js';
import type { Context } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { DEFAULT_LIMITS } from '../functions-api.js';
import { readJsonArg } from './runs.js';

export interface RunOptions {
  event?: string;
  data?: string;
  fromRun?: string;
}

/**
 * `run <name>`: bundles functions/<name> and runs it once on this machine, in the worker's
 * sandbox, with `ctx` acting on the target server's data (as the service role) and the
 * function's secrets from the environment or the env file. Nothing is deployed or recorded.
 */
export async function runLocal(ctx: Context, name: string, options: RunOptions): Promise<void> {
  const given = [options.event, options.data, options.fromRun].filter((v) => v !== undefined).length;
  if (given > 1) throw new CliError('Give one of --event, --data and --from-run', EXIT.USAGE);
  const project = ctx.project;
  const [fn] = project.select([name]);
  const target = project.target();
  const source = await bundleFunction(fn!.file, project.root);

  let event: unknown;
  if (options.event !== undefined) event = readJsonArg(ctx, options.event, '--event');
  else if (options.fromRun !== undefined) event = (await ctx.functions.run(options.fromRun)).event;
  // As a deployed http run's event, invoked by nobody in particular (no user, an anonymous actor).
  else event = { type: 'http', payload: options.data === undefined ? null : readJsonArg(ctx, options.data, '--data'), user: null, actor: { type: 'anonymous' } };
  if (event && typeof event === 'object' && !Array.isArray(event) && !('id' in event)) event = { id: randomUUID(), ...event };

  const names = fn!.config.secrets ?? [];
  const missing = names.filter((n) => project.env[n] === undefined);
  if (missing.length) ctx.out.warn(`${name}: no local value for ${missing.join(', ')} (ctx.env will not have them)`);
  const env = Object.fromEntries(names.filter((n) => project.env[n] !== undefined).map((n) => [n, project.env[n]!]));

  let sandbox: typeof import('../local-sandbox.js');
  try {
    sandbox = await import('../local-sandbox.js');
  } catch (err) {
    throw new CliError(
      `selfbaas run needs the worker's sandbox (isolated-vm, @swc/core, @nestjs/common, reflect-metadata): ${err instanceof Error ? err.message : String(err)}`,
      EXIT.FAILURE,
    );
  }
  const outcome = await sandbox.runLocally({
    source,
    event,
    env,
    timeoutMs: fn!.config.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
    memoryMb: fn!.config.memoryMb ?? DEFAULT_LIMITS.memoryMb,
    url: target.url,
    key: target.key,
  });
  if (!outcome.compiled) throw new CliError(`${name} does not compile`, EXIT.COMPILE, [outcome.message]);
  const { compiled: _compiled, resultJson, ...rest } = outcome;
  const result = rest.result !== undefined ? rest.result : resultJson !== undefined ? (JSON.parse(resultJson) as unknown) : undefined;
  const report = { function: name, status: rest.status, durationMs: rest.durationMs, logs: rest.logs, logsTruncated: rest.logsTruncated, result, error: rest.error };
  ctx.out.result(report, () => {
    const c = ctx.out.color;
    for (const line of rest.logs) ctx.out.line(`${c.dim(line.at)} ${line.level.padEnd(5)} ${line.message}`);
    if (rest.logsTruncated) ctx.out.line(c.dim('(logs truncated)'));
    const status = rest.status === 'succeeded' ? c.green(rest.status) : c.red(rest.status);
    ctx.out.line(`${name} (local): ${status} in ${rest.durationMs} ms`);
    if (rest.error) ctx.out.line(`${c.red(rest.error.code)} ${rest.error.message}${rest.error.stack ? `\n${c.dim(rest.error.stack)}` : ''}`);
    if (result !== undefined) ctx.out.line(JSON.stringify(result, null, 2));
  });
  if (rest.status !== 'succeeded') throw new CliError(`The local run ${rest.status}${rest.error ? `: ${rest.error.code}` : ''}`, EXIT.RUN_FAILED);
}
