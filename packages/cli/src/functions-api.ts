import { type BaasClient, createClient, type FunctionInfo, type FunctionVersion, type Invocation, isBaasError, type Page, type Run } from './sdk.js';
import type { Target } from './project.js';

/**
 * Every call the CLI makes to the functions API, through the SDK. The deploy model may change
 * (versions, aliases, bundles): this module is the one place to adapt.
 */
export interface DeploySpec {
  source: string;
  language: 'js' | 'ts';
  triggers?: Record<string, unknown>[];
  timeoutMs?: number;
  memoryMb?: number;
  retries?: number;
  backoffMs?: number;
  concurrency?: number;
  /** Replaces all secrets when given; omitted keeps the current ones. */
  secrets?: Record<string, string>;
}

/** The deployed state of a function that a deploy compares with (everything but secret values). */
export interface DeployedFunction {
  name: string;
  version: number;
  source: string;
  triggers: unknown[];
  limits: Record<'timeoutMs' | 'memoryMb' | 'retries' | 'backoffMs' | 'concurrency', number>;
  secretNames: string[];
}

/** A function as `export` writes it: its current definition and the names (never the values) of its secrets. */
export interface FunctionExport extends DeploySpec {
  name: string;
  triggers: Record<string, unknown>[];
  secretNames: string[];
}

/** Who may invoke a function over http (the api's default: authenticated). */
export type HttpAccess = 'public' | 'authenticated' | 'service' | `role:${string}`;

/**
 * A trigger in one canonical form, so that the manifest and what the server answers compare
 * equal when they mean the same: an http trigger gets its defaults spelled out (access
 * `authenticated`, callerLogs false, runAs `function`; the old names `user` and `admin` read
 * as `authenticated` and `role:admin`, as the server stores them), a schedule its timezone
 * (UTC), and event lists are sorted and deduplicated.
 */
export function canonicalTrigger(trigger: unknown): unknown {
  if (!trigger || typeof trigger !== 'object' || Array.isArray(trigger)) return trigger;
  const t = trigger as Record<string, unknown>;
  const events = Array.isArray(t.events) ? { events: [...new Set(t.events as unknown[])].sort() } : {};
  if (t.type === 'http') {
    const access = t.access === undefined || t.access === 'user' ? 'authenticated' : t.access === 'admin' ? 'role:admin' : t.access;
    return { ...t, access, callerLogs: t.callerLogs ?? false, runAs: t.runAs ?? 'function' };
  }
  if (t.type === 'schedule') return { ...t, timezone: t.timezone ?? 'UTC' };
  return { ...t, ...events };
}

/** The api's defaults for a deploy body's limits (functions.dto.ts), so a setting removed from the manifest reads as a change. */
export const DEFAULT_LIMITS = { timeoutMs: 10_000, memoryMb: 128, retries: 2, backoffMs: 1000, concurrency: 10 } as const;

export function connect(target: Target): BaasClient {
  return createClient({ url: target.url, apiKey: target.key, headers: { 'user-agent': 'selfbaas-cli' } });
}

export class FunctionsApi {
  constructor(private readonly client: BaasClient) {}

  /** The deployed function, or undefined when there is none of that name. */
  async get(name: string): Promise<DeployedFunction | undefined> {
    try {
      return toDeployed(await this.client.admin.functions.get(name));
    } catch (err) {
      if (isBaasError(err, 'FUNCTION_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  async deploy(name: string, spec: DeploySpec): Promise<{ version: number; created: boolean }> {
    // The manifest's triggers are checked by the api (a 400 names the bad field).
    const deployed = await this.client.admin.functions.deploy(name, spec as Parameters<BaasClient['admin']['functions']['deploy']>[1]);
    return { version: deployed.version, created: deployed.created };
  }

  /** Changes only the settings of a deployed function (PATCH): the server keeps its code. A new version. */
  async patch(name: string, spec: DeploySpec): Promise<{ version: number }> {
    const { source: _source, language: _language, ...settings } = spec;
    const patched = await this.client.admin.functions.patch(name, settings as Parameters<BaasClient['admin']['functions']['patch']>[1]);
    return { version: patched.version };
  }

  /** Makes an earlier version's code and settings current again, as a new version (secrets stay). */
  async rollback(name: string, version: number): Promise<{ version: number; rollbackOf: number | null }> {
    const info = await this.client.admin.functions.rollback(name, version);
    return { version: info.version, rollbackOf: info.rollbackOf ?? null };
  }

  /** Every version of a function, as the server lists them. */
  versions(name: string): Promise<FunctionVersion[]> {
    return this.client.admin.functions.versions(name);
  }

  /** Deletes a function, its versions, triggers and schedules. */
  delete(name: string): Promise<void> {
    return this.client.admin.functions.delete(name);
  }

  async list(): Promise<FunctionInfo[]> {
    const all: FunctionInfo[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<FunctionInfo> = await this.client.admin.functions.list({ limit: 100, cursor });
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  /** The current definition of a deployed function, as `export` writes it. */
  async exportDefinition(name: string): Promise<FunctionExport> {
    const f = await this.client.admin.functions.get(name);
    const { timeoutMs, memoryMb, retries, backoffMs, concurrency } = f;
    return { name: f.name, language: f.language, source: f.source ?? '', triggers: f.triggers, timeoutMs, memoryMb, retries, backoffMs, concurrency, secretNames: f.secretNames };
  }

  /**
   * Deploys an exported definition unless the server runs the same already; answers whether
   * it deployed, and the secret names the server does not have (their values never move).
   */
  async importDefinition(fn: FunctionExport): Promise<{ deployed: boolean; missingSecrets: string[] }> {
    const current = await this.get(fn.name);
    const same =
      current !== undefined &&
      current.source === fn.source &&
      sameTriggers(current.triggers, fn.triggers) &&
      (Object.keys(DEFAULT_LIMITS) as (keyof typeof DEFAULT_LIMITS)[]).every((k) => current.limits[k] === fn[k]);
    if (!same) {
      const { name, secretNames: _names, secrets: _values, ...spec } = fn;
      await this.deploy(name, spec);
    }
    return { deployed: !same, missingSecrets: fn.secretNames.filter((n) => !(current?.secretNames ?? []).includes(n)) };
  }

  invoke(name: string, payload: unknown, options: { async?: boolean } = {}): Promise<Invocation> {
    return this.client.functions.invoke(name, payload, options);
  }

  runs(name: string | undefined, query: { status?: Run['status']; limit?: number; cursor?: string | null } = {}): Promise<Page<Run>> {
    return this.client.functions.runs(name, query);
  }

  run(id: string): Promise<Run> {
    return this.client.functions.getRun(id);
  }

  /** Replays a failed, timed-out or dead run with the same event (a new run). */
  retry(id: string): Promise<Invocation> {
    return this.client.admin.functions.retryRun(id);
  }
}

/**
 * An exported definition from a server before issue 20, where an http trigger without
 * `access` was public: the access written out, so that the import keeps it public.
 */
export function withPublicHttpDefault(fn: FunctionExport): FunctionExport {
  const triggers = (fn.triggers ?? []).map((t) => (t.type === 'http' && t.access === undefined ? { ...t, access: 'public' } : t));
  return { ...fn, triggers };
}

/** Whether two trigger lists mean the same (canonicalTrigger; key order does not count). */
export function sameTriggers(a: unknown[] | undefined, b: unknown[] | undefined): boolean {
  return canonicalJson((a ?? []).map(canonicalTrigger)) === canonicalJson((b ?? []).map(canonicalTrigger));
}

/** JSON with sorted keys, so that key order does not count as a change. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

function toDeployed(info: FunctionInfo): DeployedFunction {
  return {
    name: info.name,
    version: info.version,
    source: info.source ?? '',
    triggers: info.triggers,
    limits: { timeoutMs: info.timeoutMs, memoryMb: info.memoryMb, retries: info.retries, backoffMs: info.backoffMs, concurrency: info.concurrency },
    secretNames: info.secretNames,
  };
}
