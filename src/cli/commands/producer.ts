import type { Command } from 'commander';
import { closeRedis } from '../../shared/closing.js';
import { createLogger } from '../../shared/logger.js';
import { connect } from '../connect.js';
import { runService } from '../lifecycle.js';
import { addOptions, COMMON, parseOptions, PRODUCER } from '../options.js';
import { buildProducer } from '../services.js';

export function registerProducer(program: Command): void {
  const specs = { ...COMMON, ...PRODUCER };
  addOptions(program.command('producer').description('watch the bridge, enqueue questions, write answers back'), specs)
    .action(async (_opts, cmd: Command) => {
      const o = parseOptions(specs, cmd.opts());
      const logger = createLogger({ level: o.logLevel });
      await runService(logger, async () => {
        const redis = connect(o.redis, logger);
        const producer = await buildProducer(redis, o, logger);
        await producer.start();
        return {
          stop: async () => {
            await producer.close(o.shutdownTimeout * 1000);
            await closeRedis(redis);
          },
        };
      }, o.shutdownTimeout);
    });
}
