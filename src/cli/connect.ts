import { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { createRedis, RedisOutageReporter, unreachableMessage } from '../shared/redis.js';

/** The process's Redis connection, its outages reported once each. */
export function connect(url: string, logger: Logger): Redis {
  return createRedis(url, new RedisOutageReporter(url, logger));
}

/**
 * A connection for a command that runs once (status, replay): it fails fast with a clear message
 * when Redis does not answer, instead of retrying forever as the services do. Connecting is
 * bounded even against a server that accepts the socket and never replies; later commands only
 * by `commandTimeoutMs` when given (a large replay's pipelines may take longer than a status read).
 */
export async function connectOnce(url: string, commandTimeoutMs?: number): Promise<Redis> {
  const connectMs = 3000;
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: connectMs, commandTimeout: connectMs, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // The socket's error says why (ECONNREFUSED); connect() itself only rejects with "Connection is closed".
  let socketError: Error | undefined;
  redis.on('error', (err: Error) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
    redis.options.commandTimeout = commandTimeoutMs;
    return redis;
  } catch (err) {
    redis.disconnect();
    const why = socketError ?? (err as Error);
    throw new Error(unreachableMessage(url, (why as NodeJS.ErrnoException).code ?? why.message).replace('; retrying', ''));
  }
}
