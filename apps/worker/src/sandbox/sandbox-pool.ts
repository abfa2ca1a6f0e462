import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { BridgeError, SandboxBridge } from './bridge.js';
import { type FromHost, type HostCall, type RunOutcome, type RunRequest, SANDBOX_LIMITS, type ToHost } from './protocol.js';

/** Heap of a host process itself (isolates have their own limits on top). */
const HOST_HEAP_MB = 256;
const READY_TIMEOUT_MS = 15_000;

interface Host {
  child: ChildProcess;
  ready: Promise<void>;
  alive: boolean;
  inflight: Map<string, (outcome: RunOutcome) => void>;
}

/** Where the host's entry and isolated-vm are, and what the host may read (nothing else). */
function hostFiles(): { entry: string; ivm: string; reads: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'host.js');
  const entry = existsSync(built) ? built : join(here, 'host.ts');
  const require = createRequire(import.meta.url);
  const ivm = require.resolve('isolated-vm');
  const gypBuild = dirname(createRequire(ivm).resolve('node-gyp-build'));
  return { entry, ivm, reads: [entry, `${dirname(ivm)}/`, `${gypBuild}/`, '/etc/alpine-release'] };
}

/**
 * A few sandbox host processes per worker (SANDBOX_HOSTS), each running many isolates.
 * Started with the Node permission model, an empty environment and a heap cap. A host that
 * dies is replaced; the runs it held end as failed (SANDBOX_CRASHED) and are retried by the
 * queue like any failed attempt. The worker process itself never runs user code.
 */
@Injectable()
export class SandboxPool implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SandboxPool.name);
  private readonly hosts: Host[] = [];
  private files?: ReturnType<typeof hostFiles>;
  private stopping = false;
  private crashes = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bridge: SandboxBridge,
  ) {}

  async onModuleInit(): Promise<void> {
    this.files = hostFiles();
    for (let i = 0; i < this.config.SANDBOX_HOSTS; i++) this.hosts.push(this.spawn());
    await Promise.all(this.hosts.map((h) => h.ready));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.hosts.map(
        (h) =>
          new Promise<void>((resolve) => {
            if (!h.alive) return resolve();
            h.child.once('exit', () => resolve());
            h.child.kill('SIGKILL');
          }),
      ),
    );
  }

  /** The pids of the live hosts (tests kill one to show it is replaced). */
  hostPids(): number[] {
    return this.hosts.filter((h) => h.alive && h.child.pid).map((h) => h.child.pid!);
  }

  /** Runs a function once on the least busy host. Never rejects: failures are outcomes. */
  async run(request: Omit<RunRequest, 't'>): Promise<RunOutcome> {
    const host = this.pick();
    try {
      await host.ready;
    } catch {
      return crashed('The sandbox host did not start');
    }
    if (!host.alive) return crashed('The sandbox host stopped before the run started');
    return new Promise<RunOutcome>((resolve) => {
      host.inflight.set(request.id, resolve);
      const message: ToHost = { t: 'run', ...request };
      host.child.send(message, (err) => {
        if (err && host.inflight.delete(request.id)) resolve(crashed('The sandbox host could not take the run'));
      });
    });
  }

  private pick(): Host {
    let best: Host | undefined;
    for (const h of this.hosts) {
      if (!h.alive) continue;
      if (!best || h.inflight.size < best.inflight.size) best = h;
    }
    if (best) return best;
    // All hosts are being replaced: start one now rather than wait for the timer.
    const fresh = this.spawn();
    this.hosts.push(fresh);
    return fresh;
  }

  private spawn(): Host {
    const files = this.files!;
    const child = fork(files.entry, [files.ivm, JSON.stringify(SANDBOX_LIMITS)], {
      execPath: process.execPath,
      execArgv: [
        '--no-node-snapshot',
        '--permission',
        '--allow-addons', // isolated-vm is a native addon
        ...files.reads.map((p) => `--allow-fs-read=${p}`),
        `--max-old-space-size=${HOST_HEAP_MB}`,
        '--disable-warning=SecurityWarning',
        '--disable-warning=ExperimentalWarning',
      ],
      env: {}, // no platform secret reaches a host
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let markReady!: () => void;
    let failReady!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    ready.catch(() => undefined);
    const readyTimer = setTimeout(() => failReady(new Error('sandbox host start timed out')), READY_TIMEOUT_MS);
    const host: Host = { child, ready, alive: true, inflight: new Map() };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.logger.warn(`sandbox host ${child.pid}: ${text.trim().slice(0, 2000)}`));
    child.on('message', (message: FromHost) => {
      if (message.t === 'ready') {
        clearTimeout(readyTimer);
        markReady();
      } else if (message.t === 'done') {
        const resolve = host.inflight.get(message.id);
        if (resolve) {
          host.inflight.delete(message.id);
          resolve(withResult(message.outcome));
        }
      } else if (message.t === 'call') {
        void this.answer(host, message);
      }
    });
    child.on('error', (err) => this.logger.warn(`sandbox host ${child.pid}: ${err.message}`));
    child.once('exit', (code, signal) => {
      clearTimeout(readyTimer);
      host.alive = false;
      failReady(new Error('sandbox host exited'));
      const lost = [...host.inflight.keys()];
      for (const resolve of host.inflight.values()) {
        resolve(crashed(`The sandbox host running this function died (${signal ?? `exit ${code}`})`));
      }
      host.inflight.clear();
      const index = this.hosts.indexOf(host);
      if (index !== -1) this.hosts.splice(index, 1);
      if (this.stopping) return;
      // run ids are "<run id>:<attempt>"
      this.logger.error({ msg: 'sandbox host died; starting another', pid: child.pid, exit: signal ?? code, runIds: lost.map((id) => id.split(':')[0]) });
      // A host that keeps dying is restarted with a growing pause (at most 5 s).
      const delay = Math.min(5000, 50 * 2 ** Math.min(this.crashes++, 7));
      setTimeout(() => {
        if (!this.stopping && this.hosts.length < this.config.SANDBOX_HOSTS) this.hosts.push(this.spawn());
      }, delay).unref();
      setTimeout(() => (this.crashes = Math.max(0, this.crashes - 1)), 60_000).unref();
    });
    return host;
  }

  private async answer(host: Host, call: HostCall): Promise<void> {
    let reply: ToHost;
    try {
      const value = await this.bridge.handle(call.method, parseArgs(call.args), call.body, call.remainingMs);
      reply = { t: 'reply', callId: call.callId, ok: true, value };
    } catch (err) {
      const error =
        err instanceof BridgeError
          ? { code: err.code, message: err.message, ...(err.status ? { status: err.status } : {}) }
          : { code: 'CTX_FAILED', message: 'The ctx call failed' };
      if (!(err instanceof BridgeError)) {
        // run ids are "<run id>:<attempt>"
        this.logger.warn({ msg: 'ctx call failed in the worker', runId: call.runId.split(':')[0], method: call.method, error: (err as Error).message });
      }
      reply = { t: 'reply', callId: call.callId, ok: false, error };
    }
    if (host.alive) host.child.send(reply, () => undefined);
  }
}

/** The host sends a result as JSON text; the worker parses it (null for a run that returned nothing). */
function withResult(outcome: RunOutcome): RunOutcome {
  const { resultJson, ...rest } = outcome;
  if (outcome.status !== 'succeeded') return rest;
  try {
    return { ...rest, result: resultJson === undefined ? null : (JSON.parse(resultJson) as unknown) };
  } catch {
    return { ...rest, status: 'failed', error: { code: 'SANDBOX_ERROR', message: 'The sandbox answered in an unexpected shape' } };
  }
}

/** The JSON arguments of a ctx call (bounded in the isolate and the host); anything else is refused. */
function parseArgs(text: unknown): unknown[] {
  if (typeof text !== 'string' || text.length > SANDBOX_LIMITS.maxArgsChars) {
    throw new BridgeError('PAYLOAD_TOO_LARGE', `ctx arguments are limited to ${SANDBOX_LIMITS.maxArgsChars} characters of JSON`);
  }
  let args: unknown;
  try {
    args = JSON.parse(text);
  } catch {
    throw new BridgeError('INVALID_ARGUMENT', 'The ctx arguments are not JSON');
  }
  if (!Array.isArray(args)) throw new BridgeError('INVALID_ARGUMENT', 'The ctx arguments are not a list');
  return args as unknown[];
}

function crashed(message: string): RunOutcome {
  return { status: 'failed', error: { code: 'SANDBOX_CRASHED', message }, logs: [], logsTruncated: false, durationMs: 0 };
}
