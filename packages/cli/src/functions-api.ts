import { type BaasClient, createClient, type FunctionInfo, type Invocation, isBaasError, type Page, type Run } from './sdk.js';
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

  /** The full definition with source (for export). */
  async definition(name: string): Promise<FunctionInfo> {
    return this.client.admin.functions.get(name);
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
