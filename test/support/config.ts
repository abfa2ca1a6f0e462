import { inject } from 'vitest';
import { type AppConfig, parseConfig } from '#libs/config';

/** The bootstrap service key of apps under test (send as `x-api-key`). */
export const SERVICE_KEY = 'test-service-key-0123456789abcdefghijklmnop';

/** The configuration of an app under test: this run's database and queue prefix, quiet logs. */
export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: inject('queuePrefix'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SERVICE_API_KEY: SERVICE_KEY,
    // Many users sign up from 127.0.0.1 in a run; the rate-limit tests lower this themselves.
    AUTH_RATE_LIMIT_MAX: '1000',
    // Gateway limits stay on (every test passes through them) but far above what a test sends;
    // test/api/gateway-*.e2e-spec.ts lower them.
    RATE_LIMIT_READS: '100000/60',
    RATE_LIMIT_WRITES: '100000/60',
    RATE_LIMIT_UPLOADS: '100000/60',
    RATE_LIMIT_INVOKES: '100000/60',
    RATE_LIMIT_AUTH: '100000/60',
    JWT_SECRET: 'test-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    PORT: '0',
    WORKER_HEALTH_PORT: '0',
    ...overrides,
  });
}
