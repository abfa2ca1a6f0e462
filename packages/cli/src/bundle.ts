import { relative } from 'node:path';
import { build, type Message } from 'esbuild';
import { CliError, EXIT } from './exit-codes.js';

/** Node built-ins a function may not import (the sandbox has none); named in the error rather than failing at run time. */
const NODE_PREFIX = /^node:/;

/**
 * Bundles one function file and what it imports (relative files, npm packages) into one ES
 * module with a default export: the `source` the api deploys. Syntax errors (and imports
 * that cannot be resolved) come back with file, line and column. Types are not checked:
 * `npx tsc --noEmit` in the project does that (init writes a tsconfig.json).
 */
export async function bundleFunction(file: string, root: string): Promise<string> {
  try {
    const result = await build({
      entryPoints: [file],
      absWorkingDir: root,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      conditions: ['worker', 'browser', 'import', 'default'],
      target: 'es2022',
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [
        {
          name: 'no-node-builtins',
          setup(b) {
            b.onResolve({ filter: NODE_PREFIX }, (args) => ({
              errors: [{ text: `"${args.path}" is a Node built-in: functions run in a sandbox without Node modules (use ctx.fetch, ctx.db, ctx.storage)` }],
            }));
          },
        },
      ],
    });
    const out = result.outputFiles[0];
    if (!out) throw new CliError(`esbuild produced nothing for ${file}`, EXIT.FAILURE);
    return out.text;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const messages = (err as { errors?: Message[] }).errors;
    if (!Array.isArray(messages)) throw err;
    throw new CliError(`${relative(root, file)} does not compile`, EXIT.COMPILE, messages.map((m) => formatMessage(m)));
  }
}

/** `functions/x.ts:3:7: Expected ";" but found "y"` and the line itself. */
export function formatMessage(message: Message): string {
  const loc = message.location;
  if (!loc) return message.text;
  // esbuild names the file relative to absWorkingDir (the project root).
  const where = `${loc.file}:${loc.line}:${loc.column + 1}`;
  return `${where}: ${message.text}${loc.lineText ? `\n    ${loc.lineText.trimEnd()}` : ''}`;
}
