import { loadConfig } from '#libs/config';
import { createWorker } from './worker.factory.js';

const config = loadConfig();
await createWorker(config);

// Bounds a stuck shutdown; normally the worker exits once its active jobs are done.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
  });
}
