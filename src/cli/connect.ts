import { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { createRedis, RedisOutageReporter, unreachableMessage } from '../shared/redis.js';

/** The process's Redis connection, its outages reported once each. */
export function connect(url: string, logger: Logger): Redis {
  return createRedis(url, new RedisOutageReporter(url, logger));
}

/**
 * A connection for a command that runs once (status, replay): it fails fast with a clear message
 * when Redis does not answer, instead of retrying forever as the services do.
 */
export async function connectOnce(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(unreachableMessage(url, (err as NodeJS.ErrnoException).code ?? (err as Error).message).replace('; retrying', ''));
  }
}
