import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import { chosenRedis, connect } from '../connect.js';
import { runService } from '../lifecycle.js';
import { startServices } from '../startServices.js';
import { addOptions, BOARD, COMMON, parseOptions } from '../options.js';

export function registerBoard(program: Command): void {
  const specs = { ...COMMON, ...BOARD };
  addOptions(program.command('board').description('Bull Board over both queues, with /healthz, /readyz and /metrics; needs only REDIS_URL'), specs)
    .action(async (_opts, cmd: Command) => {
      const o = parseOptions(specs, cmd.opts());
      const logger = createLogger({ level: o.logLevel, format: o.logFormat });
      await runService(logger, async () => {
        const redis = connect(await chosenRedis(o, cmd, (m) => logger.warn(m)), logger);
        return startServices(o, { redis, prefix: o.prefix, board: { readOnly: o.readOnly } }, logger);
      }, o.shutdownTimeout);
    });
}
