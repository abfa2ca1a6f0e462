import { Command, CommanderError, Option } from 'commander';
import { init } from './commands/init.js';
import { deploy } from './commands/deploy.js';
import { invoke, listRuns, logs, retry } from './commands/runs.js';
import { rollback, versions } from './commands/versions.js';
import { exportData, importData } from './commands/transfer.js';
import { runLocal } from './commands/run.js';
import { dev } from './commands/dev.js';
import { Context, type CliIo, type GlobalOptions } from './context.js';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';
import { Output } from './output.js';
import { BaasError, NetworkError } from './sdk.js';

/** The version of @selfbaas/cli (its package.json; a test keeps them equal). */
export const VERSION = '0.1.0';

/**
 * Runs one command line (without `node selfbaas`) and answers its exit status. Never throws:
 * every failure becomes a message on stderr and an exit code of EXIT.
 */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  let out = new Output(io, argv.includes('--json'), io.env);
  const program = new Command('selfbaas')
    .description('Deploy functions from files, follow their logs, run them locally, and move data between selfbaas installations.')
    .version(VERSION)
    .option('--json', 'print JSON for scripts (one document, or one line per event when following)')
    .option('-C, --project <dir>', 'the project folder (default: the current folder or a parent with selfbaas.json)')
    .option('--env-file <file>', 'the env file naming the target server (default: .env of the project)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  const bind =
    <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<void> | void) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const globals = command.optsWithGlobals<GlobalOptions>();
      out = new Output(io, globals.json === true, io.env);
      await fn(new Context(io, out, globals), ...(args.slice(0, -1) as A));
    };

  program
    .command('init [dir]')
    .description('create a project folder: selfbaas.json, functions/hello.ts, .env with the target')
    .option('--url <url>', 'the server (SELFBAAS_URL in .env)')
    .option('--key <key>', 'a service key of that server (SELFBAAS_SERVICE_KEY in .env)')
    .option('--force', 'write the files again in an existing project')
    .action(bind((ctx, dir: string | undefined, options: Parameters<typeof init>[2]) => init(ctx, dir, options)));

  program
    .command('deploy [names...]')
    .description('bundle the functions (all, or those named) and deploy the ones that changed')
    .option('--dry-run', 'show what would be deployed, deploy nothing')
    .option('--force', 'deploy also the unchanged ones (a new version each)')
    .option('--prune', 'delete the functions the server has and the project does not')
    .action(bind((ctx, names: string[], options: Parameters<typeof deploy>[2]) => deploy(ctx, names, options)));

  program
    .command('invoke <name>')
    .description('run a deployed function through its http trigger and print the outcome')
    .option('-d, --data <file>', 'a JSON file with the payload (event.payload); - reads stdin')
    .option('--async', 'queue the run and print its id at once')
    .action(bind((ctx, name: string, options: Parameters<typeof invoke>[2]) => invoke(ctx, name, options)));

  program
    .command('runs [name]')
    .description('recent runs, newest first')
    .addOption(new Option('--status <status>', 'only runs in this state').choices(['queued', 'running', 'succeeded', 'failed', 'timed_out', 'dead']))
    .option('-n, --limit <n>', 'how many (1-100)', '20')
    .action(bind((ctx, name: string | undefined, options: Parameters<typeof listRuns>[2]) => listRuns(ctx, name, options)));

  program
    .command('retry <runId>')
    .description('replay a failed, timed-out or dead run with the same event')
    .action(bind((ctx, runId: string) => retry(ctx, runId)));

  program
    .command('versions <name>')
    .description('the deployed versions of a function, newest first')
    .action(bind((ctx, name: string) => versions(ctx, name)));

  program
    .command('rollback <name> <version>')
    .description("make an earlier version's code and settings current again (as a new version; secrets stay)")
    .action(bind((ctx, name: string, version: string) => rollback(ctx, name, version)));

  program
    .command('logs [name]')
    .description('log lines and outcomes of recent runs; --follow streams them as they happen')
    .option('-f, --follow', 'keep printing new log lines and status changes until Ctrl-C')
    .option('-n, --limit <n>', 'how many recent runs to look at (1-100)')
    .option('--interval <ms>', 'how often --follow asks the server', '1000')
    .action(bind((ctx, name: string | undefined, options: Parameters<typeof logs>[2]) => logs(ctx, name, options)));

  program
    .command('run <name>')
    .description('run functions/<name> once on this machine, in the worker\'s sandbox, against the target server\'s data')
    .option('-e, --event <file>', 'a JSON file with the whole event (e.g. the `event` of a run from `runs --json`); - reads stdin')
    .option('-d, --data <file>', 'a JSON file with an http payload (event = { type: "http", payload, user: null, actor: { type: "anonymous" } })')
    .option('--from-run <runId>', 'the event of a recorded run (replay a failure locally)')
    .action(bind((ctx, name: string, options: Parameters<typeof runLocal>[2]) => runLocal(ctx, name, options)));

  program
    .command('dev')
    .description('the whole backend on this machine (Postgres, Redis, api, worker) for app development, until Ctrl-C')
    .option('-p, --port <port>', 'the api\'s port (0 = any free one)', '3000')
    .option('--verbose', 'the api\'s and worker\'s info logs too')
    .action(bind((ctx, options: Parameters<typeof dev>[1]) => dev(ctx, options)));

  program
    .command('export <target>')
    .description('write collections (schema + documents), users, files, functions and email templates to a new folder, or a .tar.gz')
    .option('--only <parts>', 'some of: collections,users,files,functions,email')
    .action(bind((ctx, target: string, options: Parameters<typeof exportData>[2]) => exportData(ctx, target, options)));

  program
    .command('import <source>')
    .description('load an export (folder or .tar.gz) into the target server; what exists already is left alone')
    .option('--only <parts>', 'some of: collections,users,files,functions,email')
    .action(bind((ctx, source: string, options: Parameters<typeof importData>[2]) => importData(ctx, source, options)));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    return report(out, err);
  }
}

function report(out: Output, err: unknown): ExitCode {
  if (err instanceof CommanderError) {
    // Help and --version end through here too; commander has printed its message already.
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (err instanceof CliError) {
    out.error(err.message, err.details);
    return err.exitCode;
  }
  if (err instanceof BaasError) {
    const details = (err.details ?? []).map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
    out.error(`${err.code} (${err.statusCode}): ${err.message}`, details);
    return EXIT.API;
  }
  if (err instanceof NetworkError) {
    out.error(err.message);
    return EXIT.NETWORK;
  }
  out.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return EXIT.FAILURE;
}

