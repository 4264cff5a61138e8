import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import { connect } from '../connect.js';
import { runService } from '../lifecycle.js';
import { addOptions, COMMON, parseOptions, PRODUCER, redisTarget, SERVER } from '../options.js';
import { startServices } from '../startServices.js';
import { buildProducer } from '../services.js';

export function registerProducer(program: Command): void {
  const specs = { ...COMMON, ...PRODUCER, ...SERVER };
  addOptions(program.command('producer').description('watch the bridge, enqueue questions, write answers back'), specs)
    .action(async (_opts, cmd: Command) => {
      const o = parseOptions(specs, cmd.opts());
      const logger = createLogger({ level: o.logLevel });
      await runService(logger, async () => {
        const redis = connect(redisTarget(o), logger);
        return startServices(o, { redis, prefix: o.prefix, producer: await buildProducer(redis, o, logger) }, logger);
      }, o.shutdownTimeout);
    });
}
