import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { createRedis, RedisOutageReporter } from '../shared/redis.js';

/** The process's Redis connection, its outages reported once each. */
export function connect(url: string, logger: Logger): Redis {
  return createRedis(url, new RedisOutageReporter(url, logger));
}
