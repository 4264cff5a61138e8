import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import type { CONSUMER_SPECS } from '../commands/consumer.js';
import { chosenRedis, connect } from '../connect.js';
import { runService } from '../lifecycle.js';
import type { Parsed } from '../options.js';
import { startServices } from '../startServices.js';
import { startTracing } from '../../shared/tracing/telemetry.js';
import { prepareConsumer } from '../buildRoles.js';

export async function runConsumer(o: Parsed<typeof CONSUMER_SPECS>, cmd: Command): Promise<void> {
  const logger = createLogger({ level: o.logLevel, format: o.logFormat });
  await runService(logger, async (stopping) => {
    const tracing = await startTracing('autopoll-consumer', logger);
    const buildConsumer = await prepareConsumer(o, logger, tracing);
    const redis = connect(await chosenRedis(o, cmd, (m) => logger.warn(m)), logger);
    return startServices(o, { redis, prefix: o.prefix, consumer: buildConsumer(redis), tracing }, logger, stopping);
  }, o.shutdownTimeout);
}
