import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** The parts of a compose service the self-hosting tests look at. */
export interface ComposeService {
  image?: string;
  build?: unknown;
  profiles?: string[];
  restart?: string;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const readText = (path: string): string => readFileSync(path, 'utf8');

/** docker-compose.yml parsed as compose reads it (YAML merge keys `<<:` resolved), before interpolation. */
export function readCompose(path = 'docker-compose.yml'): ComposeFile {
  return parse(readText(path), { merge: true }) as ComposeFile;
}

// $NAME or ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}.
const REFERENCE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Every variable the compose file interpolates (`${X}`, `${X:-d}`, `${X:?m}`, `$X`; `$$` is a literal `$`). */
export function interpolatedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.replaceAll('$$', '').matchAll(REFERENCE)) names.add(match[1] ?? match[4]!);
  return names;
}

/** `value` with variables substituted as compose does; throws for `${X:?message}` when X is unset or empty. */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value
    .split('$$')
    .map((part) =>
      part.replace(REFERENCE, (_all, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
        const name = braced ?? bare!;
        const current = env[name];
        if (!op) return current ?? '';
        const unset = op.startsWith(':') ? !current : current === undefined;
        if (op.endsWith('?')) {
          if (unset) throw new Error(`${name}: ${arg}`);
          return current!;
        }
        return unset ? (arg ?? '') : current!;
      }),
    )
    .join('$');
}

/** A service's environment as its container gets it, for the settings in `env` (a .env file). */
export function containerEnv(service: ComposeService, env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(value === null ? '' : String(value), env)]),
  );
}

export interface EnvEntry {
  name: string;
  value: string;
  section: string;
  /** The comment line right above the variable ('' when there is none). */
  comment: string;
}

/** A .env file (`NAME=value`, optionally quoted), with the `# --- section` each variable is under. */
export function parseEnvFile(text: string): EnvEntry[] {
  const entries: EnvEntry[] = [];
  let section = '';
  let previous = '';
  for (const line of text.split('\n')) {
    const heading = /^# --- (.+?) -*$/.exec(line);
    if (heading) section = heading[1]!;
    const variable = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (variable) {
      let value = variable[2]!;
      if (/^(".*"|'.*')$/.test(value)) value = value.slice(1, -1);
      entries.push({ name: variable[1]!, value, section, comment: previous.startsWith('# ') && !heading ? previous : '' });
    }
    previous = line;
  }
  return entries;
}

export const envObject = (entries: EnvEntry[]): Record<string, string> => Object.fromEntries(entries.map((e) => [e.name, e.value]));
