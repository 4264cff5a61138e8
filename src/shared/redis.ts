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
  const retry = retrying ? `; retrying${target.kind === 'sentinel' ? ' (a failover takes seconds)' : ''}` : '';
  const fix = unreachableFix(target);
  return `${unreachableText(target, cause)}${retry}. ${fix[0]!.toUpperCase()}${fix.slice(1)}, or set REDIS_URL.`;
}

/** "Redis at redis://host:6379 is unreachable (ECONNREFUSED)": the one wording of a Redis that did not answer. */
export function unreachableText(target: RedisTarget, cause: string): string {
  return `${targetName(target)} is unreachable (${cause})`;
}

/** The Redis a target names, for messages: its URL with any password masked. */
export function targetName(target: RedisTarget): string {
  const shown = safeRedisUrl(target.url);
  if (target.kind === 'sentinel') return `Redis master "${target.masterName}" of the Sentinel set ${shown}`;
  return target.kind === 'cluster' ? `Redis Cluster ${shown}` : `Redis at ${shown}`;
}

/**
 * What to do when Redis did not answer, naming the host:port that was tried (the server, the
 * sentinels or the seed nodes; never a password): start one on this machine, or check the far one.
 */
export function unreachableFix(where: string | RedisTarget): string {
  const target = targetOf(where);
  switch (target.kind) {
    case 'sentinel':
      return `check that the sentinels ${target.sentinels.map(hostPort).join(', ')} answer and name a master (redis-cli ${cliAddress(target.sentinels[0]!)} SENTINEL get-master-addr-by-name ${target.masterName})`;
    case 'cluster':
      return `check that the seed nodes ${target.nodes.map(hostPort).join(', ')} answer and \`redis-cli ${cliAddress(target.nodes[0]!)} CLUSTER INFO\` says cluster_state:ok`;
    default: {
      const node = singleNode(target.url);
      if (LOOPBACK.has(node.host)) return `start a Redis on ${hostPort(node)} with \`redis-server --port ${node.port} --appendonly yes --maxmemory-policy noeviction\``;
      return `check that a Redis runs on ${hostPort(node)} and that this machine reaches it (redis-cli ${cliAddress(node)} PING)`;
    }
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The host and port a redis:// URL connects to (6379 when it names none, as ioredis does). */
function singleNode(url: string): HostPort {
  try {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(u.port || 6379) };
  } catch {
    return { host: '127.0.0.1', port: 6379 };
  }
}

function hostPort(node: HostPort): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
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

/** An errno code says most. */
export function errorCause(err: Error): string {
  const cause = nodeError(err);
  return (cause as NodeJS.ErrnoException).code ?? cause.message;
}

/** The error that says why: a Cluster's "Failed to refresh slots cache" carries the last node's. */
export function nodeError(err: Error): Error {
  return (err as { lastNodeError?: Error }).lastNodeError ?? err;
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

/**
 * A client for one look at Redis: connects when told to, never retries, so a Redis that is down
 * fails at once instead of being waited for. `timeoutMs` bounds the connect. `commands: 'bounded'`
 * (the doctor): each command is bounded by `timeoutMs` too, and none is queued while disconnected;
 * `'unbounded'`: a connected Redis may take its time to answer (a busy one, or one writing its
 * AOF as it shuts down, is still there). `readyCheck` false: the caller's own first command is the
 * ready check.
 */
export function probeClient(where: string | RedisTarget, timeoutMs: number, o: { commands: 'bounded' | 'unbounded'; readyCheck?: boolean }): RedisConnection {
  const bounded = o.commands === 'bounded';
  return redisClient(targetOf(where), {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retry: () => null,
    enableReadyCheck: o.readyCheck ?? true,
    ...(bounded ? { commandTimeout: timeoutMs, enableOfflineQueue: false } : {}),
  });
}

/**
 * One quick probe of one redis-server, used to decide whether a private redis-server is needed and
 * whether one shut down has gone: its PING is not timed, since a live one that answers late is there.
 */
export async function redisAnswers(url: string, timeoutMs = 500): Promise<boolean> {
  const probe = probeClient(url, timeoutMs, { commands: 'unbounded' });
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
