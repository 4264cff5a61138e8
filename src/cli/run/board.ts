import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import type { BOARD_SPECS } from '../commands/board.js';
import { chosenRedis, connect } from '../connect.js';
import { runService } from '../lifecycle.js';
import type { Parsed } from '../options.js';
import { startServices } from '../startServices.js';

export async function runBoard(o: Parsed<typeof BOARD_SPECS>, cmd: Command): Promise<void> {
  const logger = createLogger({ level: o.logLevel, format: o.logFormat });
  await runService(logger, async () => {
    const redis = connect(await chosenRedis(o, cmd, (m) => logger.warn(m)), logger);
    return startServices(o, { redis, prefix: o.prefix, board: { readOnly: o.readOnly } }, logger);
  }, o.shutdownTimeout);
}
