import { Cluster, Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { safeRedisUrl, type HostPort, type RedisTarget } from './redisTarget.js';

export { safeRedisUrl } from './redisTarget.js';

/** What BullMQ, presence and the operator commands are given: one Redis (maybe found through Sentinel) or a Cluster. */
export type RedisConnection = Redis | Cluster;

/**
 * Whether the connection is down (reconnecting after a loss, or closed): a command sent now would
 * wait in ioredis's offline queue, and all of them would run at once on its return.
 */
export function isDown(redis: RedisConnection): boolean {
  return redis.status === 'reconnecting' || redis.status === 'end';
}

/** A plain URL is one redis-server, as `--redis` without `--redis-cluster` names it. */
function targetOf(where: string | RedisTarget): RedisTarget {
  return typeof where === 'string' ? { kind: 'single', url: where } : where;
}

/** What to say when Redis does not answer: where, why, and what to check; `retrying` for the services, which wait it out. */
export function unreachableMessage(where: string | RedisTarget, cause: string, retrying = true): string {
  const target = targetOf(where);
  const shown = safeRedisUrl(target.url);
  const retry = (extra = '') => (retrying ? `; retrying${extra}` : '');
  switch (target.kind) {
    case 'sentinel':
      return (
        `Redis master "${target.masterName}" of the Sentinel set ${shown} is unreachable (${cause})${retry(' (a failover takes seconds)')}. ` +
        `Check that the sentinels answer (redis-cli ${cliAddress(target.sentinels[0]!)} SENTINEL get-master-addr-by-name ${target.masterName}) or set REDIS_URL.`
      );
    case 'cluster':
      return (
        `Redis Cluster ${shown} is unreachable (${cause})${retry()}. ` +
        `Check that its nodes answer and \`redis-cli ${cliAddress(target.nodes[0]!)} CLUSTER INFO\` says cluster_state:ok, or set REDIS_URL.`
      );
    default:
      return (
        `Redis at ${shown} is unreachable (${cause})${retry()}. ` +
        `Start one with \`redis-server --port 6379 --appendonly yes --maxmemory-policy noeviction\` or set REDIS_URL.`
      );
  }
}

function cliAddress(node: HostPort): string {
  return `-h ${node.host} -p ${node.port}`;
}

/**
 * Logs a Redis outage once when it starts and once when it ends, instead of one line per
 * reconnect attempt; every BullMQ connection of a process reports into the same instance.
 */
export class RedisOutageReporter {
  private down = false;
  private readonly target: RedisTarget;
  constructor(
    where: string | RedisTarget,
    private readonly logger: Logger,
  ) {
    this.target = targetOf(where);
  }

  error(err: Error): void {
    if (this.down) return;
    this.down = true;
    this.logger.error({ redis: safeRedisUrl(this.target.url) }, unreachableMessage(this.target, errorCause(err)));
  }

  ready(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info({ redis: safeRedisUrl(this.target.url) }, 'Redis is reachable again');
  }
}

/** An errno code says most; a Cluster's "Failed to refresh slots cache" carries the last node's error. */
export function errorCause(err: Error): string {
  const cause = (err as { lastNodeError?: Error }).lastNodeError ?? err;
  return (cause as NodeJS.ErrnoException).code ?? cause.message;
}

/** What every connection of a client is opened with, whatever the target. */
export interface ClientOptions {
  /** null: a command waits for the connection forever, as BullMQ's workers require. */
  maxRetriesPerRequest: number | null;
  /** Delay before reconnecting after `times` failures; null: give up. */
  retry: (times: number) => number | null;
  lazyConnect?: boolean;
  connectTimeout?: number;
  commandTimeout?: number;
  enableOfflineQueue?: boolean;
  enableReadyCheck?: boolean;
}

/**
 * An ioredis client of the target: `new Redis(url)`, `new Redis({ sentinels, name })` or
 * `new Cluster(seeds)`. ioredis does the work: it asks the sentinels for the master (again after
 * a failover) and follows the Cluster's slots and redirections.
 */
export function redisClient(target: RedisTarget, o: ClientOptions): RedisConnection {
  const { retry, lazyConnect, enableOfflineQueue, enableReadyCheck, ...node } = o;
  const shared = {
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(enableReadyCheck !== undefined ? { enableReadyCheck } : {}),
  };
  switch (target.kind) {
    case 'single':
      return new Redis(target.url, { ...node, ...shared, retryStrategy: retry });
    case 'sentinel':
      return new Redis({
        sentinels: target.sentinels,
        name: target.masterName,
        db: target.db,
        ...credentials(target),
        ...node,
        ...shared,
        retryStrategy: retry,
        sentinelRetryStrategy: retry,
        sentinelCommandTimeout: 3000,
        // The sentinels announce a failover (+switch-master): the connection to the old master is
        // dropped at once, and a write the demoted master refused (READONLY) is sent again once
        // ioredis has asked the sentinels for the new one.
        failoverDetector: true,
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
      });
    case 'cluster':
      return new Cluster(target.nodes, {
        redisOptions: { ...node, ...credentials(target), ...(target.tls ? { tls: {} } : {}) },
        clusterRetryStrategy: retry,
        ...shared,
      });
  }
}

function credentials(t: { username?: string; password?: string }): { username?: string; password?: string } {
  return { ...(t.username ? { username: t.username } : {}), ...(t.password ? { password: t.password } : {}) };
}

/**
 * A connection for BullMQ: `maxRetriesPerRequest: null` as its workers require, and a capped
 * reconnect backoff so that an outage is retried forever without a crash loop.
 */
export function createRedis(url: string, reporter: RedisOutageReporter): Redis;
export function createRedis(target: string | RedisTarget, reporter: RedisOutageReporter): RedisConnection;
export function createRedis(where: string | RedisTarget, reporter: RedisOutageReporter): RedisConnection {
  const redis = redisClient(targetOf(where), {
    maxRetriesPerRequest: null,
    retry: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  redis.on('error', (err: Error) => reporter.error(err));
  redis.on('ready', () => reporter.ready());
  return redis;
}

/** One quick probe of one redis-server, used to decide whether a private redis-server is needed. */
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
