import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { BridgeError, SandboxBridge } from './bridge.js';
import {
  type FromHost,
  type HostCall,
  type PoolOptions,
  type PoolStats,
  type RunOutcome,
  type RunRequest,
  SANDBOX_LIMITS,
  type ToHost,
} from './protocol.js';

/** Heap of a host process itself (isolates have their own limits on top). */
const HOST_HEAP_MB = 256;
const READY_TIMEOUT_MS = 15_000;

interface Host {
  child: ChildProcess;
  ready: Promise<void>;
  alive: boolean;
  inflight: Map<string, (outcome: RunOutcome) => void>;
  /** Runs given to this host and not finished (also those waiting for it to start). */
  load: number;
  /** Versions (code keys) this host has warm isolates of, as far as the worker knows. */
  warm: Set<string>;
  /** Stops the host when it stays without a run for SANDBOX_HOST_IDLE_MS. */
  idleTimer?: NodeJS.Timeout;
  /** Stopped for being idle (not a crash). */
  reaped: boolean;
  statsWaiters: ((stats: PoolStats) => void)[];
}

/** Runs a host may hold at once before another host is started (below SANDBOX_HOSTS). */
const BUSY_HOST = 1;

/** Where the host's entry and isolated-vm are, and what the host may read (nothing else: its entry, the bootstrap beside it, isolated-vm). */
function hostFiles(): { entry: string; ivm: string; reads: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'host.js');
  const entry = existsSync(built) ? built : join(here, 'host.ts');
  const bootstrap = join(here, entry === built ? 'bootstrap.js' : 'bootstrap.ts'); // loaded by host.ts (the CLI's bundled host.js has it inside)
  const require = createRequire(import.meta.url);
  const ivm = require.resolve('isolated-vm');
  const gypBuild = dirname(createRequire(ivm).resolve('node-gyp-build'));
  return { entry, ivm, reads: [entry, bootstrap, `${dirname(ivm)}/`, `${gypBuild}/`, '/etc/alpine-release'] };
}

/**
 * Sandbox host processes of a worker, each running many isolates: none while no function
 * runs, started on demand up to SANDBOX_HOSTS as runs overlap, stopped after
 * SANDBOX_HOST_IDLE_MS without a run (scale from zero). A run goes to a host that has its
 * version warm when that host is not busy, else to an idle host, else a new one is started.
 * Started with the Node permission model, an empty environment and a heap cap. A host that
 * dies is replaced on demand; the runs it held end as failed (SANDBOX_CRASHED) and are
 * retried by the queue like any failed attempt. The worker process itself never runs user code.
 */
@Injectable()
export class SandboxPool implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SandboxPool.name);
  private readonly hosts: Host[] = [];
  private files?: ReturnType<typeof hostFiles>;
  private stopping = false;
  private crashes = 0;
  /** The run token of each run in progress, by run request id. */
  private readonly runTokens = new Map<string, string>();
  /** No new host before this time (after crashes), unless none is alive. */
  private spawnAfter = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bridge: SandboxBridge,
  ) {}

  /** Hosts start on demand (the first run starts one). */
  onModuleInit(): void {
    this.files = hostFiles();
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

  /** The pids of the live hosts holding a run now (tests kill one mid-run). */
  busyHostPids(): number[] {
    return this.hosts.filter((h) => h.alive && h.load > 0 && h.child.pid).map((h) => h.child.pid!);
  }

  /** What the live hosts hold in their warm pools (tests, benchmarks). */
  async stats(): Promise<{ hosts: number; isolates: number; versions: number; heapBytes: number }> {
    const all = await Promise.all(
      this.hosts
        .filter((h) => h.alive)
        .map(
          (h) =>
            new Promise<PoolStats | null>((resolve) => {
              const timer = setTimeout(() => resolve(null), 5_000);
              h.statsWaiters.push((stats) => {
                clearTimeout(timer);
                resolve(stats);
              });
              h.child.send({ t: 'stats' } satisfies ToHost, (err) => err && resolve(null));
            }),
        ),
    );
    const live = all.filter((s): s is PoolStats => s !== null);
    return {
      hosts: live.length,
      isolates: live.reduce((n, s) => n + s.isolates, 0),
      versions: live.reduce((n, s) => n + s.versions, 0),
      heapBytes: live.reduce((n, s) => n + s.heapBytes, 0),
    };
  }

  /**
   * Runs a function once, on a host picked for it. Never rejects: failures are outcomes.
   * `runToken` stays in the worker: its ctx calls carry it to the api; the host never sees it.
   */
  async run({ runToken, ...request }: Omit<RunRequest, 't'> & { runToken: string }): Promise<RunOutcome> {
    this.runTokens.set(request.id, runToken);
    try {
      return await this.runPicked(request);
    } finally {
      this.runTokens.delete(request.id);
    }
  }

  private async runPicked(request: Omit<RunRequest, 't'>): Promise<RunOutcome> {
    const host = this.pick(request.codeKey);
    clearTimeout(host.idleTimer);
    host.warm.add(request.codeKey);
    host.load++;
    try {
      return await this.runOn(host, request);
    } finally {
      host.load--;
      if (host.alive && host.load === 0) this.idle(host);
    }
  }

  /** Sends the run once the host is ready; it counts as the host's from now (a crash fails it too). */
  private runOn(host: Host, request: Omit<RunRequest, 't'>): Promise<RunOutcome> {
    if (!host.alive) return Promise.resolve(crashed('The sandbox host stopped before the run started'));
    return new Promise<RunOutcome>((resolve) => {
      host.inflight.set(request.id, resolve);
      host.ready.then(
        () => {
          if (!host.inflight.has(request.id)) return; // the host died meanwhile (already answered)
          const message: ToHost = { t: 'run', ...request };
          host.child.send(message, (err) => {
            if (err && host.inflight.delete(request.id)) resolve(crashed('The sandbox host could not take the run'));
          });
        },
        () => {
          if (host.inflight.delete(request.id)) resolve(crashed('The sandbox host did not start'));
        },
      );
    });
  }

  /**
   * The host for a run of this version: one with the version warm unless it is busy; else
   * an idle host; else a new one while there are fewer than SANDBOX_HOSTS; else the least
   * busy (a busy host with the version warm before a busy one without).
   */
  private pick(codeKey: string): Host {
    const alive = this.hosts.filter((h) => h.alive);
    const byLoad = (a: Host, b: Host) => a.load - b.load;
    const warm = alive.filter((h) => h.warm.has(codeKey)).sort(byLoad)[0];
    if (warm && warm.load < BUSY_HOST) return warm;
    const least = alive.sort(byLoad)[0];
    if (least && least.load === 0) return least;
    if (alive.length < this.config.SANDBOX_HOSTS && Date.now() >= this.spawnAfter) {
      const fresh = this.spawn();
      this.hosts.push(fresh);
      return fresh;
    }
    if (warm && least && warm.load <= least.load) return warm;
    if (least) return least;
    // Every host died (and is not replaced yet): start one now for this run.
    const fresh = this.spawn();
    this.hosts.push(fresh);
    return fresh;
  }

  /** A host without runs is stopped after SANDBOX_HOST_IDLE_MS (its warm isolates go with it). */
  private idle(host: Host): void {
    clearTimeout(host.idleTimer);
    host.idleTimer = setTimeout(() => {
      if (!host.alive || host.load > 0) return;
      host.reaped = true;
      host.child.kill('SIGKILL');
    }, this.config.SANDBOX_HOST_IDLE_MS ?? 60_000);
    host.idleTimer.unref();
  }

  private spawn(): Host {
    const files = this.files!;
    const pool: PoolOptions = {
      isolateIdleMs: this.config.SANDBOX_ISOLATE_IDLE_MS ?? 60_000,
      warmMemoryMb: this.config.SANDBOX_WARM_MEMORY_MB ?? 256,
      maxWarmIsolates: this.config.SANDBOX_WARM_ISOLATES ?? 200,
    };
    const child = fork(files.entry, [files.ivm, JSON.stringify(SANDBOX_LIMITS), JSON.stringify(pool)], {
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
    const host: Host = { child, ready, alive: true, inflight: new Map(), load: 0, warm: new Set(), reaped: false, statsWaiters: [] };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.logger.warn({ msg: 'sandbox host wrote to stderr', pid: child.pid, text: text.trim().slice(0, 2000) }));
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
      } else if (message.t === 'evicted') {
        host.warm.delete(message.key);
      } else if (message.t === 'stats') {
        for (const waiter of host.statsWaiters.splice(0)) waiter(message.stats);
      }
    });
    child.on('error', (err) => this.logger.warn({ msg: 'sandbox host process error', pid: child.pid, error: err.message }));
    child.once('exit', (code, signal) => {
      clearTimeout(readyTimer);
      host.alive = false;
      failReady(new Error('sandbox host exited'));
      const lost = [...host.inflight.keys()];
      for (const resolve of host.inflight.values()) {
        resolve(crashed(`The sandbox host running this function died (${signal ?? `exit ${code}`})`));
      }
      host.inflight.clear();
      clearTimeout(host.idleTimer);
      for (const waiter of host.statsWaiters.splice(0)) waiter({ isolates: 0, versions: 0, heapBytes: 0, blanks: 0 });
      const index = this.hosts.indexOf(host);
      if (index !== -1) this.hosts.splice(index, 1);
      if (this.stopping) return;
      if (host.reaped) {
        this.logger.log({ msg: 'sandbox host stopped after being idle', pid: child.pid });
        return;
      }
      // run ids are "<run id>:<attempt>"
      this.logger.error({ msg: 'sandbox host died; starting another', pid: child.pid, exit: signal ?? code, runIds: lost.map((id) => id.split(':')[0]) });
      // The next run starts another host; one that keeps dying is replaced after a growing
      // pause (at most 5 s) while other hosts are alive.
      this.spawnAfter = Date.now() + Math.min(5000, 50 * 2 ** Math.min(this.crashes++, 7));
      setTimeout(() => (this.crashes = Math.max(0, this.crashes - 1)), 60_000).unref();
    });
    return host;
  }

  private async answer(host: Host, call: HostCall): Promise<void> {
    let reply: ToHost;
    try {
      const runToken = this.runTokens.get(call.runId);
      if (!runToken) throw new BridgeError('RUN_OVER', 'The run is over');
      const value = await this.bridge.handle(call.method, parseArgs(call.args), call.body, call.remainingMs, runToken);
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
