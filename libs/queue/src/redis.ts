import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for BullMQ (workers need `maxRetriesPerRequest: null`, blocking
 * commands must not time out) or, with `forCommands`, for short commands that should
 * fail fast when Redis is down (health checks, rate limits).
 */
export function createRedis(url: string, purpose: 'bullmq' | 'commands', name: string): Redis {
  const base: RedisOptions = { connectionName: name, lazyConnect: false };
  const options: RedisOptions =
    purpose === 'bullmq'
      ? { ...base, maxRetriesPerRequest: null, enableReadyCheck: true }
      : { ...base, maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 2_000 };
  const redis = new Redis(url, options);
  // ioredis reconnects by itself; without a listener an outage would be an unhandled 'error'.
  redis.on('error', () => undefined);
  return redis;
}
