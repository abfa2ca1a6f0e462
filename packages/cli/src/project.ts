import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { CliError, EXIT } from './exit-codes.js';

export const MANIFEST = 'selfbaas.json';
export const FUNCTIONS_DIR = 'functions';
/** Function sources: one file per function, named after it. */
export const SOURCE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;
const FUNCTION_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

const functionEntry = z.strictObject({
  /** Triggers as the api takes them (`{ type: 'http' }`, `{ type: 'db', collection, events }`, `{ type: 'schedule', cron }` ...). */
  triggers: z.array(z.record(z.string(), z.unknown())).optional(),
  timeoutMs: z.number().int().optional(),
  memoryMb: z.number().int().optional(),
  retries: z.number().int().optional(),
  backoffMs: z.number().int().optional(),
  concurrency: z.number().int().optional(),
  /** Names of the function's secrets; their values come from the environment or the env file, never from here. */
  secrets: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a variable name')).optional(),
});
export type FunctionEntry = z.infer<typeof functionEntry>;

const manifestSchema = z.strictObject({
  $schema: z.string().optional(),
  functions: z.record(z.string().regex(FUNCTION_NAME, 'function names: a lower-case letter, then letters, digits, _ or -'), functionEntry).default({}),
});
export type Manifest = z.infer<typeof manifestSchema>;

export interface Target {
  url: string;
  key: string;
  /** Where the values came from (for messages). */
  source: string;
}

export interface LocalFunction {
  name: string;
  file: string;
  config: FunctionEntry;
}

/** A project folder: selfbaas.json, functions/, and the env file naming the target. */
export class Project {
  private constructor(
    readonly root: string,
    readonly manifest: Manifest,
    /** The env file's variables merged under the process environment. */
    readonly env: Record<string, string | undefined>,
    readonly envFile: string,
  ) {}

  /** Finds selfbaas.json in `dir` or a parent folder. */
  static load(dir: string, options: { envFile?: string; env?: NodeJS.ProcessEnv } = {}): Project {
    const root = findRoot(resolve(dir));
    if (!root) throw new CliError(`No ${MANIFEST} in ${resolve(dir)} or a parent folder: run \`selfbaas init\` first`, EXIT.CONFIG);
    const manifest = parseManifest(join(root, MANIFEST));
    const envFile = resolve(root, options.envFile ?? '.env');
    let fileVars: Record<string, string | undefined> = {};
    if (existsSync(envFile)) fileVars = parseEnv(readFileSync(envFile, 'utf8'));
    else if (options.envFile) throw new CliError(`The env file ${envFile} does not exist`, EXIT.CONFIG);
    return new Project(root, manifest, { ...fileVars, ...(options.env ?? process.env) }, envFile);
  }

  /** The server to talk to: SELFBAAS_URL + SELFBAAS_SERVICE_KEY (environment first, then the env file). */
  target(): Target {
    return targetFrom(this.env, this.envFile);
  }

  /** The functions of the project: every file in functions/, with its manifest entry. */
  functions(): LocalFunction[] {
    const dir = join(this.root, FUNCTIONS_DIR);
    const found = new Map<string, LocalFunction>();
    const files = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()) : [];
    for (const entry of files.sort((a, b) => a.name.localeCompare(b.name))) {
      const ext = SOURCE_EXTENSIONS.find((e) => entry.name.endsWith(e) && !entry.name.endsWith(`.d${e}`));
      if (!ext) continue;
      const name = entry.name.slice(0, -ext.length);
      if (!FUNCTION_NAME.test(name)) {
        throw new CliError(`${FUNCTIONS_DIR}/${entry.name}: a function's file name must be its name (a lower-case letter, then letters, digits, _ or -)`, EXIT.CONFIG);
      }
      if (found.has(name)) throw new CliError(`Two files for the function ${name} in ${FUNCTIONS_DIR}/`, EXIT.CONFIG);
      found.set(name, { name, file: join(dir, entry.name), config: this.manifest.functions[name] ?? {} });
    }
    for (const name of Object.keys(this.manifest.functions)) {
      if (!found.has(name)) throw new CliError(`${MANIFEST} lists the function ${name}, but ${FUNCTIONS_DIR}/ has no ${name}.ts or ${name}.js`, EXIT.CONFIG);
    }
    return [...found.values()];
  }

  /** The functions named (all when none), with an error for an unknown name. */
  select(names: string[]): LocalFunction[] {
    const all = this.functions();
    if (names.length === 0) return all;
    return names.map((name) => {
      const fn = all.find((f) => f.name === name);
      if (!fn) throw new CliError(`No function ${name} in ${FUNCTIONS_DIR}/ (known: ${all.map((f) => f.name).join(', ') || 'none'})`, EXIT.USAGE);
      return fn;
    });
  }
}

export function targetFrom(env: Record<string, string | undefined>, where: string): Target {
  const url = env['SELFBAAS_URL'];
  const key = env['SELFBAAS_SERVICE_KEY'];
  const missing = [!url && 'SELFBAAS_URL', !key && 'SELFBAAS_SERVICE_KEY'].filter(Boolean);
  if (missing.length > 0) throw new CliError(`${missing.join(' and ')} not set (in the environment or ${where})`, EXIT.CONFIG);
  try {
    const parsed = new URL(url!);
    if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('not http');
  } catch {
    throw new CliError(`SELFBAAS_URL is not an http(s) URL: ${url}`, EXIT.CONFIG);
  }
  return { url: url!, key: key!, source: where };
}

function findRoot(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, MANIFEST))) return current;
    if (dirname(current) === current) return undefined;
  }
}

function parseManifest(file: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, EXIT.CONFIG);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CliError(
      `${file} is not a valid manifest`,
      EXIT.CONFIG,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return parsed.data;
}
