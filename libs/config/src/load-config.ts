import { configSchema, type AppConfig } from './config.schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates the environment. Throws a ConfigError whose message is one line naming the
 * first offending variable, e.g. `Invalid configuration: PORT must be ... (got "abc")`.
 */
export function parseConfig(env: NodeJS.ProcessEnv): AppConfig {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? 'environment');
  const raw = cleaned[name];
  const secret = /SECRET|PASS|KEY/.test(name);
  const got = raw === undefined ? 'unset' : secret ? 'value hidden' : `got ${JSON.stringify(withoutCredentials(raw))}`;
  throw new ConfigError(`Invalid configuration: ${name} ${issue.message.replace(/^Invalid input: /, '')} (${got})`);
}

/** `scheme://user:pass@host` → `scheme://***@host`, so a bad URL's password never reaches a log. */
function withoutCredentials(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}

let cached: AppConfig | undefined;

/** The process-wide configuration; on a bad value prints one line and exits. */
export function loadConfig(): AppConfig {
  if (cached) return cached;
  try {
    cached = parseConfig(process.env);
    return cached;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
