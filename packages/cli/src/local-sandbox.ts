// The worker's own sandbox and the api's own compiler, so that `selfbaas run` executes a
// function exactly as the server would (same transform, same isolates, same ctx bridge).
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { FunctionsCompiler } from '../../../apps/api/src/functions/functions.compiler.js';
import { SandboxBridge } from '../../../apps/worker/src/sandbox/bridge.js';
import type { RunOutcome } from '../../../apps/worker/src/sandbox/protocol.js';
import { SandboxPool } from '../../../apps/worker/src/sandbox/sandbox-pool.js';

export interface LocalRun {
  /** The bundle, as `deploy` would send it. */
  source: string;
  event: unknown;
  env: Record<string, string>;
  timeoutMs: number;
  memoryMb: number;
  /** The server ctx.db / ctx.storage / ctx.email act on, as the service role. */
  url: string;
  key: string;
}

/** Log bytes kept per run: the worker's default (FUNCTIONS_LOG_LIMIT_BYTES). */
const LOG_LIMIT_BYTES = 64 * 1024;

export type LocalOutcome = { compiled: false; message: string } | ({ compiled: true } & RunOutcome);

export async function runLocally(run: LocalRun): Promise<LocalOutcome> {
  const compiled = new FunctionsCompiler().compile(run.source, 'js');
  if (!compiled.ok) return { compiled: false, message: compiled.message };
  // Only what the sandbox and its bridge read; the rest of the platform's configuration does not exist here.
  const config = { SANDBOX_HOSTS: 1, API_INTERNAL_URL: run.url.replace(/\/+$/, '') } as ConstructorParameters<typeof SandboxPool>[0];
  const bridge = new SandboxBridge(config);
  // No server secret here to mint a run token: ctx calls carry the key `run` was given.
  bridge.credentials = () => ({ 'x-api-key': run.key });
  const pool = new SandboxPool(config, bridge);
  pool.onModuleInit();
  try {
    const outcome = await pool.run({
      id: randomUUID(),
      codeKey: `local:${randomUUID()}`,
      code: compiled.code,
      event: run.event,
      env: run.env,
      timeoutMs: run.timeoutMs,
      memoryMb: run.memoryMb,
      logLimitBytes: LOG_LIMIT_BYTES,
      runToken: 'local', // never sent: the bridge uses the key above
    });
    return { compiled: true, ...outcome };
  } finally {
    await pool.onApplicationShutdown();
  }
}
