import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import type { PRODUCER_SPECS } from '../commands/producer.js';
import { chosenRedis, connect } from '../connect.js';
import { runService } from '../lifecycle.js';
import { ConfigError, type Parsed } from '../options.js';
import { startServices } from '../startServices.js';
import { startTracing } from '../../shared/tracing/telemetry.js';
import { buildProducer } from '../buildRoles.js';

export async function runProducer(o: Parsed<typeof PRODUCER_SPECS>, cmd: Command): Promise<void> {
  // No default here, unlike `up`: a producer on a shared bridge that served a role by itself
  // would take (mark read) questions another shard was meant to answer.
  if (o.conversation.length === 0 && !o.role) {
    throw new ConfigError(
      'invalid configuration:\n  say which conversations to serve: --conversation CONV_ID:TOKEN (env AUTOPOLL_CONVERSATIONS), ' +
        'or --role ROLE (env AUTOPOLL_ROLE) for every conversation of that side-b role (`autopoll up` serves --role haiku_shard when given neither)',
    );
  }
  const logger = createLogger({ level: o.logLevel, format: o.logFormat });
  await runService(logger, async () => {
    const tracing = await startTracing('autopoll-producer', logger);
    const redis = connect(await chosenRedis(o, cmd, (m) => logger.warn(m)), logger);
    return startServices(o, { redis, prefix: o.prefix, producer: await buildProducer(redis, o, logger, tracing), tracing }, logger);
  }, o.shutdownTimeout);
}
