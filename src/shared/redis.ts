import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

/** The URL with any password masked, for logs and messages. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

export function unreachableMessage(url: string, cause: string): string {
  return (
    `Redis at ${safeRedisUrl(url)} is unreachable (${cause}); retrying. ` +
    `Start one with \`redis-server --port 6379 --appendonly yes --maxmemory-policy noeviction\` or set REDIS_URL.`
  );
}

/**
 * Logs a Redis outage once when it starts and once when it ends, instead of one line per
 * reconnect attempt; every BullMQ connection of a process reports into the same instance.
 */
export class RedisOutageReporter {
  private down = false;
  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  error(err: Error): void {
    if (this.down) return;
    this.down = true;
    this.logger.error({ redis: safeRedisUrl(this.url) }, unreachableMessage(this.url, errorCause(err)));
  }

  ready(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info({ redis: safeRedisUrl(this.url) }, 'Redis is reachable again');
  }
}

function errorCause(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? err.message;
}

/**
 * A connection for BullMQ: `maxRetriesPerRequest: null` as its workers require, and a capped
 * reconnect backoff so that an outage is retried forever without a crash loop.
 */
export function createRedis(url: string, reporter: RedisOutageReporter, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    ...extra,
  });
  redis.on('error', (err) => reporter.error(err));
  redis.on('ready', () => reporter.ready());
  return redis;
}

/** One quick probe, used to decide whether a private redis-server is needed. */
export async function redisAnswers(url: string, timeoutMs = 500): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
