import { Redis } from 'ioredis';
import { safeRedisUrl } from '../shared/redis.js';

/** Redis did not answer a one-shot command in time; the message is the one line to print. */
export class RedisUnreachableError extends Error {}

/**
 * A connection for a command that runs once and exits (status, doctor): it fails fast instead of
 * retrying forever like the services' connections, so the command never hangs on a dead Redis.
 */
export async function connectOnce(url: string, timeoutMs = 2000): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs * 2,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // The socket's error says why (ECONNREFUSED, ETIMEDOUT); connect() only rejects with "Connection is closed".
  let socketError: Error | undefined;
  redis.on('error', (err: Error) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    const why = socketError ?? (err as Error);
    const cause = (why as NodeJS.ErrnoException).code ?? why.message;
    throw new RedisUnreachableError(`Redis at ${safeRedisUrl(url)} is unreachable (${cause}); check --redis (env REDIS_URL)`);
  }
}
