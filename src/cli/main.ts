#!/usr/bin/env node
import { Command } from 'commander';
import { registerConsumer } from './commands/consumer.js';
import { registerProducer } from './commands/producer.js';
import { registerUp } from './commands/up.js';
import { ConfigError } from './options.js';

const program = new Command('autopoll')
  .description('Answers questions posted on an MCP bridge, through BullMQ on Redis and a pool of Claude Code sessions.')
  .showHelpAfterError();

registerUp(program);
registerProducer(program);
registerConsumer(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`autopoll: ${err.message}\nRun with --help for the options.\n`);
    process.exit(2);
  }
  process.stderr.write(`autopoll: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
