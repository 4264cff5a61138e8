#!/usr/bin/env node
import { Command } from 'commander';
import { closeRedis } from '../shared/closing.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { createRedis, RedisOutageReporter, redisAnswers } from '../shared/redis.js';
import { runService, type Running } from './lifecycle.js';
import { addOptions, COMMON, CONSUMER, ConfigError, parseOptions, PRODUCER } from './options.js';
import { onPath, PrivateRedis } from './privateRedis.js';
import { buildConsumer, buildProducer } from './services.js';

const program = new Command('autopoll')
  .description('Answers questions posted on an MCP bridge, through BullMQ on Redis and a pool of Claude Code sessions.')
  .showHelpAfterError();

function connect(url: string, logger: Logger) {
  const reporter = new RedisOutageReporter(url, logger);
  return createRedis(url, reporter);
}

addOptions(addOptions(addOptions(program.command('up').description('producer and consumer in one process (the default of npm start)'), COMMON), PRODUCER), CONSUMER)
  .action(async (_opts, cmd: Command) => {
    const o = parseOptions({ ...COMMON, ...PRODUCER, ...CONSUMER }, cmd.opts());
    const logger = createLogger({ level: o.logLevel });
    await runService(logger, async (): Promise<Running> => {
      let privateRedis: PrivateRedis | undefined;
      const defaultUrl = cmd.getOptionValueSource('redis') === 'default';
      if (defaultUrl && !(await redisAnswers(o.redis)) && onPath('redis-server')) {
        privateRedis = await PrivateRedis.start(Number(new URL(o.redis).port || 6379), './data/redis', logger);
      }
      const redis = connect(o.redis, logger);
      const producer = await buildProducer(redis, o, logger);
      const consumer = buildConsumer(redis, o, logger);
      await producer.start();
      await consumer.start();
      return {
        stop: async () => {
          await consumer.close(o.shutdownTimeout * 1000);
          await producer.close(o.shutdownTimeout * 1000);
          await closeRedis(redis);
          await privateRedis?.stop();
        },
      };
    }, o.shutdownTimeout);
  });

addOptions(addOptions(program.command('producer').description('watch the bridge, enqueue questions, write answers back'), COMMON), PRODUCER)
  .action(async (_opts, cmd: Command) => {
    const o = parseOptions({ ...COMMON, ...PRODUCER }, cmd.opts());
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

addOptions(addOptions(program.command('consumer').description('answer questions from Redis; needs only REDIS_URL (and Claude credentials)'), COMMON), CONSUMER)
  .action(async (_opts, cmd: Command) => {
    const o = parseOptions({ ...COMMON, ...CONSUMER }, cmd.opts());
    const logger = createLogger({ level: o.logLevel });
    await runService(logger, async () => {
      const redis = connect(o.redis, logger);
      const consumer = buildConsumer(redis, o, logger);
      await consumer.start();
      return {
        stop: async () => {
          await consumer.close(o.shutdownTimeout * 1000);
          await closeRedis(redis);
        },
      };
    }, o.shutdownTimeout);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`autopoll: ${err.message}\nRun with --help for the options.\n`);
    process.exit(2);
  }
  process.stderr.write(`autopoll: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
