import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../packages/cli/src/main.js';
import { SERVICE_KEY } from '../support/config.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the CLI in-process as a user would type it, with captured output (not a terminal: no colours, no bars). */
export function cliRunner(cwd: string, env: Record<string, string> = {}) {
  const run = async (args: string[], options: { signal?: AbortSignal; env?: Record<string, string>; onOutput?: (stdout: Capture, stderr: Capture) => void } = {}): Promise<CliResult> => {
    const stdout = new Capture();
    const stderr = new Capture();
    options.onOutput?.(stdout, stderr);
    const code = await runCli(args, { stdout, stderr, cwd, env: { PATH: process.env['PATH'] ?? '', ...env, ...options.env }, signal: options.signal });
    return {
      code,
      stdout: stdout.text,
      stderr: stderr.text,
      json: <T>() => JSON.parse(stdout.text) as T,
    };
  };
  return run;
}

/** A fresh folder under the OS temp dir. */
export function tempDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `selfbaas-cli-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const targetEnv = (url: string): Record<string, string> => ({ SELFBAAS_URL: url, SELFBAAS_SERVICE_KEY: SERVICE_KEY });
