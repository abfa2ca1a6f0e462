import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Context } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { FUNCTIONS_DIR, MANIFEST } from '../project.js';

export interface InitOptions {
  url?: string;
  key?: string;
  force?: boolean;
}

const HELLO = `// A function: one file per function, named after it. Deploy with \`npx selfbaas deploy\`.
// event.payload is the invoke request's JSON body; ctx has log, env (this function's
// secrets), db, storage, email and fetch. Imports of npm packages are bundled on deploy.
// Who may invoke it is the http trigger's "access" in selfbaas.json: "public" (anyone),
// "authenticated" (any signed-in user; the default), "role:<name>" (users with that role) or
// "service" (API keys only); the service key may always invoke. "callerLogs": true lets the
// user who invoked a run read its logs; "runAs": "caller" makes ctx.db/storage/email act as
// that user (their rules apply) instead of as the function.

interface HttpEvent {
  type: 'http';
  payload: { name?: string } | null;
  user: { id: string; email: string } | null;
}

interface Ctx {
  log(...args: unknown[]): void;
  env: Record<string, string>;
}

export default async (event: HttpEvent, ctx: Ctx) => {
  const name = event.payload?.name ?? 'world';
  ctx.log('saying hello to', name);
  return { message: \`Hello, \${name}!\` };
};
`;

const MANIFEST_TEXT = {
  functions: {
    hello: { triggers: [{ type: 'http', access: 'authenticated' }], timeoutMs: 10000, secrets: [] },
  },
};

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['ES2022'],
  },
  include: [`${FUNCTIONS_DIR}/**/*.ts`, 'lib/**/*.ts'],
};

/** Creates a project folder: selfbaas.json, functions/hello.ts, .env (target), .gitignore, tsconfig.json. */
export function init(ctx: Context, dir: string | undefined, options: InitOptions): void {
  const root = resolve(ctx.io.cwd, dir ?? '.');
  if (existsSync(join(root, MANIFEST)) && !options.force) {
    throw new CliError(`${join(root, MANIFEST)} already exists (--force writes the files again)`, EXIT.CONFIG);
  }
  const url = options.url ?? ctx.io.env['SELFBAAS_URL'] ?? 'http://127.0.0.1:3000';
  const key = options.key ?? ctx.io.env['SELFBAAS_SERVICE_KEY'] ?? '';
  mkdirSync(join(root, FUNCTIONS_DIR), { recursive: true });
  const written: string[] = [];
  const write = (file: string, text: string, keep = false) => {
    const path = join(root, file);
    if (keep && existsSync(path)) return;
    writeFileSync(path, text);
    written.push(relative(ctx.io.cwd, path) || file);
  };
  write(MANIFEST, `${JSON.stringify(MANIFEST_TEXT, null, 2)}\n`);
  write(join(FUNCTIONS_DIR, 'hello.ts'), HELLO, true);
  write(
    '.env',
    [
      '# The server `selfbaas deploy`, `logs`, `export` ... talk to (another one: --env-file .env.production).',
      `SELFBAAS_URL=${url}`,
      '# A service key of that server (never commit it).',
      `SELFBAAS_SERVICE_KEY=${key}`,
      '# Values of the secrets your functions list in selfbaas.json go here too, e.g. STRIPE_KEY=...',
      '',
    ].join('\n'),
    !options.force,
  );
  write('.gitignore', '.env\n.env.*\n.selfbaas/\nnode_modules/\n', true);
  write('tsconfig.json', `${JSON.stringify(TSCONFIG, null, 2)}\n`, true);
  ctx.out.result({ root, written }, () => {
    ctx.out.line(`${ctx.out.color.green('Created')} a selfbaas project in ${root}`);
    for (const file of written) ctx.out.line(`  ${file}`);
    if (!key) ctx.out.line(`Set SELFBAAS_SERVICE_KEY in ${join(root, '.env')}, then: npx selfbaas deploy`);
    else ctx.out.line('Next: npx selfbaas deploy');
  });
}
