import type { Command } from 'commander';
import { createLogger, type Logger } from '../../shared/logger.js';
import { redisAnswers } from '../../shared/redis.js';
import { connect } from '../connect.js';
import { runService, type Running } from '../lifecycle.js';
import type { UP_SPECS } from '../commands/up.js';
import { DEFAULT_ROLE, PRODUCER, type Parsed } from '../options.js';
import { redisTarget } from '../parseOptions.js';
import { startServices } from '../startServices.js';
import { startTracing } from '../../shared/tracing/telemetry.js';
import { systemRedisUid } from '../loopbackListener.js';
import { foreignListener, onPath, PORT_FLAG, PrivateRedis, recordedPrivateRedis } from '../privateRedis.js';
import { claimFolder, releaseFolder } from '../privateRedisFolder.js';
import { buildProducer, prepareConsumer } from '../buildRoles.js';
import { PRIVATE_REDIS_DIR } from '../../shared/ownedFiles.js';
import { upBanner } from '../upBanner.js';

export async function runUp(parsed: Parsed<typeof UP_SPECS>, cmd: Command): Promise<void> {
  const roleIsDefault = parsed.role === undefined && parsed.conversation.length === 0;
  const o = roleIsDefault ? { ...parsed, role: DEFAULT_ROLE } : parsed;
  const logger = createLogger({ level: o.logLevel, format: o.logFormat });
  await runService(logger, async (stopping): Promise<Running> => {
    // Before the private Redis: a refused consumer configuration starts nothing.
    // One process, both roles: its spans name the command (OTEL_SERVICE_NAME may rename them).
    const tracing = await startTracing('autopoll-up', logger);
    const buildConsumer = await prepareConsumer(o, logger, tracing, o.bridgeDb);
    const { privateRedis, redisUrl, redisShown } = await chooseUpRedis(o, cmd, logger);
    try {
      const redis = connect(redisTarget({ ...o, redis: redisUrl }), logger);
      const producer = await buildProducer(redis, o, logger, tracing);
      const consumer = buildConsumer(redis);
      const running = await startServices(o, { redis, prefix: o.prefix, producer, consumer, board: { readOnly: o.readOnly }, tracing }, logger, stopping);
      const banner = upBanner({
        role: o.role,
        roleIsDefault,
        conversations: o.conversation.map((c) => c.id).filter((id) => producer.serves(id)),
        bridgeDb: o.bridgeDb,
        askBridgeDb: o.bridgeDb === PRODUCER.bridgeDb.default ? undefined : o.bridgeDb,
        boardUrl: running.serverUrl,
        consumerStopped: consumer.stoppedBecause,
        redis: redisShown,
      });
      if (consumer.stoppedBecause === undefined) logger.info(banner);
      else logger.warn(banner);
      return {
        failed: running.failed,
        stop: async () => {
          await running.stop();
          await privateRedis?.stop();
        },
      };
    } catch (err) {
      // The process exits on a failed start; the private redis-server would outlive it.
      await privateRedis?.stop();
      throw err;
    }
  }, o.shutdownTimeout);
}

/**
 * The Redis `up` uses. --redis (env REDIS_URL) when given. Otherwise, in this order: the private
 * Redis an earlier `up` of this folder left running (killed hard), which this one adopts and stops;
 * a Redis already answering on 127.0.0.1 at --private-redis-port when its listening socket belongs
 * to this user or to the system `redis` user (with a warning); a private one it starts there.
 * Refused: a second `up` of the folder while the first runs (it would lose its Redis when the first
 * stops it), a Redis that is not ours where the url file says ours was, and one on the port owned
 * by any other user (who would then read and answer every job).
 * Only for the single-node default: a Sentinel set or a Cluster is never started here.
 */
async function chooseUpRedis(
  o: { redis: string; redisCluster: boolean; privateRedisPort: number },
  cmd: Command,
  logger: Logger,
): Promise<{ privateRedis: PrivateRedis | undefined; redisUrl: string; redisShown: string | undefined }> {
  if (cmd.getOptionValueSource('redis') !== 'default' || o.redisCluster) return { privateRedis: undefined, redisUrl: o.redis, redisShown: undefined };
  const owner = claimFolder();
  if (owner !== undefined) {
    throw new Error(`another \`up\` (pid ${owner}) already runs in this folder with ${PRIVATE}: stop it first, or run this one in another folder or with REDIS_URL`);
  }
  try {
    const chosen = await chooseClaimed(o.privateRedisPort, logger);
    if (chosen.privateRedis === undefined) releaseFolder();
    return chosen;
  } catch (err) {
    releaseFolder();
    throw err;
  }
}

const PRIVATE = `the private redis-server in ${PRIVATE_REDIS_DIR} (password in ${PRIVATE_REDIS_DIR}/url)`;

/** chooseUpRedis's choice once this `up` holds the folder's up.pid. */
async function chooseClaimed(port: number, logger: Logger): Promise<{ privateRedis: PrivateRedis | undefined; redisUrl: string; redisShown: string | undefined }> {
  const left = await recordedPrivateRedis();
  if (left?.foreign === undefined && left !== undefined) {
    logger.info(`using ${PRIVATE} that an earlier \`up\` of this folder left running; it stops with this one`);
    return { privateRedis: PrivateRedis.adopt(left.url, PRIVATE_REDIS_DIR), redisUrl: left.url, redisShown: PRIVATE };
  }
  if (left !== undefined && Number(new URL(left.url).port) === port) {
    throw new Error(`${PRIVATE_REDIS_DIR}/url names 127.0.0.1:${port}, but the Redis answering there is not this folder's private one (${left.foreign}): not using it; stop that Redis, or choose another port with ${PORT_FLAG}, or set REDIS_URL to the Redis to use`);
  }
  const local = `redis://127.0.0.1:${port}`;
  if (await redisAnswers(local)) {
    const foreign = foreignListener(port, { uids: [process.getuid?.(), systemRedisUid()] });
    if (foreign !== undefined) {
      throw new Error(`a Redis answers at ${local} with no password, but it is neither this user's nor the system redis user's (${foreign}): not using it, whoever runs it would read and answer every job; choose a free port for a private Redis with ${PORT_FLAG}, or set REDIS_URL to the Redis to use`);
    }
    logger.warn({ redis: local }, `using the Redis already running at ${local} (not starting a private one); set REDIS_URL to choose another`);
    return { privateRedis: undefined, redisUrl: local, redisShown: local };
  }
  // Without redis-server the connection below reports the unreachable Redis and how to start one.
  if (!onPath('redis-server')) return { privateRedis: undefined, redisUrl: local, redisShown: undefined };
  const privateRedis = await PrivateRedis.start(port, PRIVATE_REDIS_DIR, logger);
  return { privateRedis, redisUrl: privateRedis.url, redisShown: PRIVATE };
}
