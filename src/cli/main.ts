#!/usr/bin/env node
import { Command } from 'commander';
import { registerBoard } from './commands/board.js';
import { registerConsumer } from './commands/consumer.js';
import { registerDoctor } from './commands/doctor.js';
import { registerProducer } from './commands/producer.js';
import { registerReplay } from './commands/replay.js';
import { registerUp } from './commands/up.js';
import { registerStatus } from './commands/status.js';
import { registerAsk } from './commands/ask.js';
import { BindRefusedError } from '../board/OperatorServer.js';
import { NothingToServeError } from '../producer/ConversationRegistry.js';
import { ConfigError } from './options.js';

const program = new Command('autopoll')
  .description('Answers questions posted on an MCP bridge, through BullMQ on Redis and a pool of Claude Code sessions.')
  .showHelpAfterError();

registerUp(program);
registerProducer(program);
registerConsumer(program);
registerBoard(program);
registerReplay(program);
registerStatus(program);
registerAsk(program);
registerDoctor(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof BindRefusedError) {
    process.stderr.write(`autopoll: ${err.message}\nRun with --help for the options.\n`);
    process.exit(2);
  }
  // A configuration that can serve nothing (its message says the fix): 2, as `ask` exits for the same conversations.
  if (err instanceof NothingToServeError) {
    process.stderr.write(`autopoll: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`autopoll: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
