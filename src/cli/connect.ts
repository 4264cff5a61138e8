import type { Command } from 'commander';
import { Cluster } from 'ioredis';
import { knownSecrets, targetPassword } from '../shared/knownSecrets.js';
import type { Logger } from '../shared/logger.js';
import { createRedis, errorCause, redisClient, RedisOutageReporter, unreachableMessage, type RedisConnection } from '../shared/redis.js';
import type { RedisTarget } from '../shared/redisTarget.js';
import { redisTarget } from './parseOptions.js';
import { PRIVATE_REDIS_DIR } from '../shared/ownedFiles.js';
import { recordedPrivateRedis } from './privateRedis.js';

/**
 * The Redis a command uses: the one --redis (env REDIS_URL) names when given; otherwise the private
 * Redis that `up` runs for this folder when it answers as ours (its URL, with the password, is in a
 * file of ./data/redis), so that `status` or `board` in another terminal reach it with no URL typed;
 * otherwise the default URL. A Redis that is not ours where the file says ours was gets a warning.
 */
export async function chosenRedis(
  o: { redis: string; redisCluster: boolean },
  cmd: Command,
  warn: (message: string) => void = (message) => process.stderr.write(`warning: ${message}\n`),
): Promise<RedisTarget> {
  if (cmd.getOptionValueSource('redis') === 'default' && !o.redisCluster) {
    const recorded = await recordedPrivateRedis();
    if (recorded?.foreign === undefined && recorded !== undefined) return redisTarget({ redis: recorded.url, redisCluster: false });
    if (recorded !== undefined) {
      warn(`${PRIVATE_REDIS_DIR}/url names 127.0.0.1:${new URL(recorded.url).port}, but the Redis answering there is not this folder's private one (${recorded.foreign}): not using it`);
    }
  }
  return redisTarget(o);
}

/** The process's Redis connection, its outages reported once each. */
export function connect(target: RedisTarget, logger: Logger): RedisConnection {
  // The private Redis's password comes from its file, not from the options the registry was filled from.
  knownSecrets.add('redis-password', targetPassword(target));
  return createRedis(target, new RedisOutageReporter(target, logger));
}

/**
 * The connection of a command that runs once (status, replay), to the Redis `chosenRedis` picks
 * from its flags: it fails fast with a clear message when Redis does not answer, instead of
 * retrying forever as the services do. Connecting is bounded even against a server that accepts
 * the socket and never replies; later commands only by `commandTimeoutMs` when given (a large
 * replay's pipelines may take longer than a status read).
 */
export async function connectOnce(o: { redis: string; redisCluster: boolean }, cmd: Command, commandTimeoutMs?: number): Promise<RedisConnection> {
  const target = await chosenRedis(o, cmd);
  const connectMs = 3000;
  knownSecrets.add('redis-password', targetPassword(target));
  const redis = redisClient(target, {
    lazyConnect: true,
    connectTimeout: connectMs,
    commandTimeout: connectMs,
    maxRetriesPerRequest: 1,
    retry: () => null,
    // A Cluster's own ready check (CLUSTER INFO) could leave connect() unsettled; the PING below decides.
    enableReadyCheck: target.kind !== 'cluster',
  });
  // The socket's error says why (ECONNREFUSED); connect() itself only rejects with "Connection is closed".
  let socketError: Error | undefined;
  redis.on('error', (err: Error) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
    setCommandTimeout(redis, commandTimeoutMs);
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(unreachableMessage(target, errorCause(socketError ?? (err as Error)), false));
  }
}

function setCommandTimeout(redis: RedisConnection, ms: number | undefined): void {
  if (!(redis instanceof Cluster)) {
    redis.options.commandTimeout = ms;
    return;
  }
  // A Cluster's node connections each have their options; nodes found later take redisOptions.
  if (redis.options.redisOptions) redis.options.redisOptions.commandTimeout = ms;
  for (const node of redis.nodes('all')) node.options.commandTimeout = ms;
}
