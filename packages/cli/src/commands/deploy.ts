import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFunction } from '../bundle.js';
import type { Context } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { canonicalJson as canonical, DEFAULT_LIMITS, type DeployedFunction, type DeploySpec, sameTriggers } from '../functions-api.js';
import type { LocalFunction, Project } from '../project.js';

export interface DeployOptions {
  dryRun?: boolean;
  force?: boolean;
  /** Delete the functions the server has and the project does not (only with no names given). */
  prune?: boolean;
}

export interface DeployChange {
  name: string;
  /** new: not on the server yet; changed: what differs; unchanged: nothing to do. */
  action: 'create' | 'update' | 'unchanged';
  changes: string[];
  version?: number;
}

/**
 * Bundles the project's functions (all, or those named), compares each with what the server
 * runs (source, triggers, limits, secret names, and the secret values' hash this machine sent
 * last), and deploys those that differ. `--dry-run` only reports.
 */
export async function deploy(ctx: Context, names: string[], options: DeployOptions): Promise<void> {
  const project = ctx.project;
  if (options.prune && names.length > 0) throw new CliError('--prune deploys the whole project: give no function names with it', EXIT.USAGE);
  const selected = project.select(names);
  if (selected.length === 0) throw new CliError(`No functions in ${project.root}/functions`, EXIT.CONFIG);
  const target = project.target();
  const state = new DeployState(project, target.url);

  // Compile everything first: a compile error deploys nothing.
  const bar = ctx.out.progress('Bundling', selected.length);
  const specs = new Map<string, DeploySpec>();
  const compileErrors: CliError[] = [];
  for (const fn of selected) {
    try {
      specs.set(fn.name, { ...specOf(fn), source: await bundleFunction(fn.file, project.root) });
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT.COMPILE) throw err;
      compileErrors.push(err);
    }
    bar.tick();
  }
  bar.stop();
  if (compileErrors.length > 0) {
    throw new CliError(
      compileErrors.length === 1 ? compileErrors[0]!.message : `${compileErrors.length} functions do not compile`,
      EXIT.COMPILE,
      compileErrors.flatMap((e) => e.details),
    );
  }

  const api = ctx.functions;
  const plan: { fn: LocalFunction; spec: DeploySpec; change: DeployChange; secretsHash: string | undefined }[] = [];
  for (const fn of selected) {
    const spec = specs.get(fn.name)!;
    const deployed = await api.get(fn.name);
    const secrets = secretValues(fn, project.env, deployed);
    if (secrets) spec.secrets = secrets;
    const secretsHash = secrets ? hashSecrets(secrets) : undefined;
    const changes = deployed ? diff(spec, deployed, secretsHash, state.secretsHash(fn.name)) : [];
    const action = !deployed ? 'create' : changes.length > 0 || options.force ? 'update' : 'unchanged';
    plan.push({ fn, spec, secretsHash, change: { name: fn.name, action, changes: !deployed ? ['new function'] : changes, version: deployed?.version } });
  }

  if (!options.dryRun) {
    const work = plan.filter((p) => p.change.action !== 'unchanged');
    const progress = ctx.out.progress('Deploying', work.length);
    for (const item of work) {
      // Settings alone changed: PATCH them (the server keeps the code); else PUT the bundle too.
      const settingsOnly = item.change.action === 'update' && item.change.changes.length > 0 && !item.change.changes.includes('source');
      const result = settingsOnly ? await api.patch(item.fn.name, item.spec) : await api.deploy(item.fn.name, item.spec);
      item.change.version = result.version;
      if (item.secretsHash) state.setSecretsHash(item.fn.name, item.secretsHash);
      progress.tick();
    }
    progress.stop();
    state.save();
  }

  const changes = plan.map((p) => p.change);
  const local = new Set(project.functions().map((f) => f.name));
  const serverOnly = (await api.list()).map((f) => f.name).filter((n) => !local.has(n));
  const deleted = options.prune ? serverOnly : [];
  if (!options.dryRun) for (const name of deleted) await api.delete(name);
  ctx.out.result({ dryRun: options.dryRun === true, target: target.url, functions: changes, serverOnly, deleted }, () => {
    const c = ctx.out.color;
    for (const change of changes) {
      if (change.action === 'unchanged') ctx.out.line(`${c.dim('=')} ${change.name} ${c.dim(`unchanged (v${change.version})`)}`);
      else {
        const mark = change.action === 'create' ? c.green('+') : c.yellow('~');
        const version = options.dryRun ? '' : ` → v${change.version}`;
        ctx.out.line(`${mark} ${change.name}${version}: ${change.changes.join(', ')}`);
      }
    }
    for (const name of deleted) ctx.out.line(`${c.red('-')} ${name}${options.dryRun ? '' : ' deleted'}: not in the project`);
    if (serverOnly.length && !options.prune) ctx.out.line(c.dim(`Only on the server (left alone; --prune deletes them): ${serverOnly.join(', ')}`));
    const count = changes.filter((ch) => ch.action !== 'unchanged').length;
    ctx.out.line(options.dryRun ? `Dry run: ${count} function(s) would be deployed to ${target.url}` : `Deployed ${count} function(s) to ${target.url}`);
  });
}

/** The deploy body from the manifest entry, with the api's defaults filled in (so a comparison sees a removed setting). */
function specOf(fn: LocalFunction): Omit<DeploySpec, 'source'> {
  const c = fn.config;
  return {
    language: 'js',
    triggers: c.triggers ?? [{ type: 'http' }],
    timeoutMs: c.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
    memoryMb: c.memoryMb ?? DEFAULT_LIMITS.memoryMb,
    retries: c.retries ?? DEFAULT_LIMITS.retries,
    backoffMs: c.backoffMs ?? DEFAULT_LIMITS.backoffMs,
    concurrency: c.concurrency ?? DEFAULT_LIMITS.concurrency,
  };
}

/**
 * The secrets to send: all values when every listed name has one locally; nothing (the server
 * keeps its values) when some are missing locally but the server has exactly those names.
 */
function secretValues(fn: LocalFunction, env: Record<string, string | undefined>, deployed: DeployedFunction | undefined): Record<string, string> | undefined {
  const names = fn.config.secrets ?? [];
  const missing = names.filter((n) => env[n] === undefined);
  if (missing.length === 0) {
    if (names.length === 0 && (deployed?.secretNames.length ?? 0) === 0) return undefined;
    return Object.fromEntries(names.map((n) => [n, env[n]!]));
  }
  const server = new Set(deployed?.secretNames ?? []);
  if (names.length === server.size && names.every((n) => server.has(n))) return undefined;
  throw new CliError(`${fn.name}: no value for the secret(s) ${missing.join(', ')} (set them in the environment or the env file)`, EXIT.CONFIG);
}

function diff(spec: DeploySpec, deployed: DeployedFunction, secretsHash: string | undefined, lastHash: string | undefined): string[] {
  const changes: string[] = [];
  if (spec.source !== deployed.source) changes.push('source');
  if (!sameTriggers(spec.triggers, deployed.triggers)) changes.push('triggers');
  for (const key of Object.keys(deployed.limits) as (keyof DeployedFunction['limits'])[]) {
    if (spec[key] !== deployed.limits[key]) changes.push(`${key} ${deployed.limits[key]} → ${spec[key]}`);
  }
  if (spec.secrets) {
    const names = Object.keys(spec.secrets).sort();
    if (canonical(names) !== canonical([...deployed.secretNames].sort())) changes.push('secret names');
    else if (secretsHash !== lastHash) changes.push('secret values');
  }
  return changes;
}

function hashSecrets(secrets: Record<string, string>): string {
  return createHash('sha256').update(canonical(secrets)).digest('hex');
}

/** .selfbaas/deploy-state.json: per target URL and function, the hash of the secret values last sent. */
class DeployState {
  private readonly file: string;
  private readonly data: Record<string, Record<string, { secrets?: string }>>;

  constructor(project: Project, private readonly url: string) {
    this.file = join(project.root, '.selfbaas', 'deploy-state.json');
    this.data = {};
    try {
      if (existsSync(this.file)) this.data = JSON.parse(readFileSync(this.file, 'utf8')) as typeof this.data;
    } catch {
      // Unreadable: forget it (secret values then count as changed once, and are sent again).
    }
  }
  secretsHash(name: string): string | undefined {
    return this.data[this.url]?.[name]?.secrets;
  }
  setSecretsHash(name: string, hash: string): void {
    ((this.data[this.url] ??= {})[name] ??= {}).secrets = hash;
  }
  save(): void {
    mkdirSync(join(this.file, '..'), { recursive: true });
    writeFileSync(this.file, `${JSON.stringify(this.data, null, 2)}\n`);
  }
}
