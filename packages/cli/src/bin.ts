import { runCli } from './main.js';

// Ctrl-C ends long-running commands (logs --follow, dev) cleanly; a second one exits at once.
const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // `npm run selfbaas -- ...` in the repository runs in its root: INIT_CWD is where it was typed.
  cwd: (process.env['npm_lifecycle_event'] === 'selfbaas' && process.env['INIT_CWD']) || process.cwd(),
  env: process.env,
  signal: controller.signal,
});
