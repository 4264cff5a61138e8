import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import { chosenRedis, connect } from '../connect.js';
import { runService } from '../lifecycle.js';
import { addOptions, COMMON, CONSUMER, parseOptions, SERVER } from '../options.js';
import { startServices } from '../startServices.js';
import { buildConsumer } from '../buildRoles.js';

export function registerConsumer(program: Command): void {
  const specs = { ...COMMON, ...CONSUMER, ...SERVER };
  addOptions(program.command('consumer').description('answer questions from Redis; needs only REDIS_URL (and Claude credentials)'), specs)
    .action(async (_opts, cmd: Command) => {
      const o = parseOptions(specs, cmd.opts());
      const logger = createLogger({ level: o.logLevel, format: o.logFormat });
      await runService(logger, async (stopping) => {
        const redis = connect(await chosenRedis(o, cmd, (m) => logger.warn(m)), logger);
        return startServices(o, { redis, prefix: o.prefix, consumer: await buildConsumer(redis, o, logger) }, logger, stopping);
      }, o.shutdownTimeout);
    });
}
