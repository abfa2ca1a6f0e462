import type { BaasClient } from './sdk.js';
import { connect, FunctionsApi } from './functions-api.js';
import type { Output, Streams } from './output.js';
import { MANIFEST, Project, type Target, targetFrom } from './project.js';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** What a command gets: where it runs, how it prints, and lazily the project and the server. */
export interface CliIo extends Streams {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Ends long-running commands (`logs --follow`, `dev`): Ctrl-C, or a test. */
  signal?: AbortSignal;
}

export interface GlobalOptions {
  json?: boolean;
  project?: string;
  envFile?: string;
}

export class Context {
  private loaded?: Project;
  private clientInstance?: BaasClient;

  constructor(
    readonly io: CliIo,
    readonly out: Output,
    readonly options: GlobalOptions,
  ) {}

  /** --env-file, else SELFBAAS_ENV_FILE (npm 11's `npm run` also reads an --env-file argument itself). */
  private get envFile(): string | undefined {
    return this.options.envFile ?? (this.io.env['SELFBAAS_ENV_FILE'] || undefined);
  }

  get project(): Project {
    this.loaded ??= Project.load(this.options.project ?? this.io.cwd, { envFile: this.envFile, env: this.io.env });
    return this.loaded;
  }

  /** The server: from the project's env file, or (outside a project) from the environment alone. */
  target(): Target {
    if (this.loaded || hasManifest(resolve(this.io.cwd, this.options.project ?? '.')) || this.envFile) return this.project.target();
    return targetFrom(this.io.env, 'the environment');
  }

  get client(): BaasClient {
    this.clientInstance ??= connect(this.target());
    return this.clientInstance;
  }

  get functions(): FunctionsApi {
    return new FunctionsApi(this.client);
  }
}

function hasManifest(dir: string): boolean {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, MANIFEST))) return true;
    if (dirname(current) === current) return false;
  }
}
