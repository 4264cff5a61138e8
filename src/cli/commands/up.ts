import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import { redisAnswers } from '../../shared/redis.js';
import { connect } from '../connect.js';
import { runService, type Running } from '../lifecycle.js';
import { addOptions, BOARD, COMMON, CONSUMER, parseOptions, PRODUCER, redisTarget } from '../options.js';
import { startServices } from '../startServices.js';
import { onPath, PrivateRedis } from '../privateRedis.js';
import { buildConsumer, buildProducer } from '../services.js';

export function registerUp(program: Command): void {
  const specs = { ...COMMON, ...PRODUCER, ...CONSUMER, ...BOARD };
  addOptions(program.command('up').description('producer, consumer and board in one process (the default of npm start)'), specs)
    .action(async (_opts, cmd: Command) => {
      const o = parseOptions(specs, cmd.opts());
      const logger = createLogger({ level: o.logLevel });
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
          const running = await startServices(o, { redis, prefix: o.prefix, producer, consumer: buildConsumer(redis, o, logger), board: { readOnly: o.readOnly } }, logger);
          return {
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
