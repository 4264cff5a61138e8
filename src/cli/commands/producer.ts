import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
import { chosenRedis, connect } from '../connect.js';
import { runService } from '../lifecycle.js';
import { addOptions, COMMON, ConfigError, parseOptions, PRODUCER, SERVER } from '../options.js';
import { startServices } from '../startServices.js';
import { buildProducer } from '../buildRoles.js';

export function registerProducer(program: Command): void {
  const specs = { ...COMMON, ...PRODUCER, ...SERVER };
  addOptions(program.command('producer').description('watch the bridge, enqueue questions, write answers back; serves --conversation and/or --role (one is needed)'), specs)
    .action(async (_opts, cmd: Command) => {
      const o = parseOptions(specs, cmd.opts());
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
        const redis = connect(await chosenRedis(o, cmd, (m) => logger.warn(m)), logger);
        return startServices(o, { redis, prefix: o.prefix, producer: await buildProducer(redis, o, logger) }, logger);
      }, o.shutdownTimeout);
    });
}
