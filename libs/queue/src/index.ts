export * from './queues.js';
export { createRedis } from './redis.js';
export { QueueModule, REDIS } from './queue.module.js';
