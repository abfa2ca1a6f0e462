import { runCli } from './main.js';

// Ctrl-C (or SIGTERM) ends long-running commands (logs --follow, dev) cleanly; a second one exits at once.
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    controller.abort();
    process.once(signal, () => process.exit(130));
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // `npm run selfbaas -- ...` in the repository runs in its root: INIT_CWD is where it was typed.
  cwd: (process.env['npm_lifecycle_event'] === 'selfbaas' && process.env['INIT_CWD']) || process.cwd(),
  env: process.env,
  signal: controller.signal,
});
