import { inject } from 'vitest';
import { type AppConfig, parseConfig } from '#libs/config';

/** The configuration of an app under test: this run's database and queue prefix, quiet logs. */
export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: inject('queuePrefix'),
    LOG_LEVEL: 'silent',
    PORT: '0',
    WORKER_HEALTH_PORT: '0',
    ...overrides,
  });
}
