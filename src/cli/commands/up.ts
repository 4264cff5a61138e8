import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import { redisAnswers } from '../../shared/redis.js';
import { connect } from '../connect.js';
import { runService, type Running } from '../lifecycle.js';
import { addOptions, BOARD, COMMON, CONSUMER, DEFAULT_ROLE, parseOptions, PRODUCER, redisTarget } from '../options.js';
import { startServices } from '../startServices.js';
import { onPath, PrivateRedis } from '../privateRedis.js';
import { buildConsumer, buildProducer } from '../services.js';
import { upBanner } from '../upBanner.js';

export function registerUp(program: Command): void {
  const role = { ...PRODUCER.role, help: `${PRODUCER.role.help} (default: ${DEFAULT_ROLE} when no --conversation is given)` };
  const specs = { ...COMMON, ...PRODUCER, role, ...CONSUMER, ...BOARD };
  addOptions(program.command('up').description('producer, consumer and board in one process (the default of npm start)'), specs)
    .action(async (_opts, cmd: Command) => {
      const parsed = parseOptions(specs, cmd.opts());
      const roleIsDefault = parsed.role === undefined && parsed.conversation.length === 0;
      const o = roleIsDefault ? { ...parsed, role: DEFAULT_ROLE } : parsed;
      const logger = createLogger({ level: o.logLevel, format: o.logFormat });
      await runService(logger, async (): Promise<Running> => {
        let privateRedis: PrivateRedis | undefined;
        // Only for the single-node default: a Sentinel set or a Cluster is never started here.
        const defaultUrl = cmd.getOptionValueSource('redis') === 'default' && !o.redisCluster;
        if (defaultUrl && !(await redisAnswers(o.redis)) && onPath('redis-server')) {
          privateRedis = await PrivateRedis.start(Number(new URL(o.redis).port || 6379), './data/redis', logger);
        }
        try {
          const redis = connect(redisTarget(o), logger);
          const producer = await buildProducer(redis, o, logger);
          const consumer = buildConsumer(redis, o, logger);
          const running = await startServices(o, { redis, prefix: o.prefix, producer, consumer, board: { readOnly: o.readOnly } }, logger);
          const banner = upBanner({
            role: o.role,
            roleIsDefault,
            conversations: o.conversation.map((c) => c.id).filter((id) => producer.serves(id)),
            bridgeDb: o.bridgeDb,
            askBridgeDb: o.bridgeDb === PRODUCER.bridgeDb.default ? undefined : o.bridgeDb,
            boardUrl: running.serverUrl,
            consumerStopped: consumer.stoppedBecause,
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
    });
}
