import { loadConfig } from '#libs/config';
import { createApp } from './app.factory.js';

const config = loadConfig();
const app = await createApp(config);

// On SIGTERM/SIGINT Nest closes the app (enableShutdownHooks): Fastify stops accepting,
// answers 503 to new requests on kept-alive sockets, waits for in-flight requests, then
// the Prisma pool and Redis connections close. This timer only bounds a stuck shutdown.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    setTimeout(() => {
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
  });
}

await app.listen({ port: config.PORT, host: config.HOST });
