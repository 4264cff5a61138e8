#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerBoard } from './commands/board.js';
import { registerConsumer } from './commands/consumer.js';
import { registerDoctor } from './commands/doctor.js';
import { registerProducer } from './commands/producer.js';
import { registerReplay } from './commands/replay.js';
import { registerUp } from './commands/up.js';
import { registerStatus } from './commands/status.js';
import { registerAsk } from './commands/ask.js';
import { registerTrace } from './commands/trace.js';
import { registerMcp } from './commands/mcp.js';
import { newcomerSuggestion, usageExitCode } from './usage.js';
import { packageVersion } from './version.js';

const program = new Command('autopoll')
  .description('Answers questions posted on an MCP bridge, through BullMQ on Redis and a pool of Claude Code sessions.')
  .version(packageVersion(), '-V, --version', "print autopoll's version")
  // The program's own options go before the command: a command's unknown option is then not
  // suggested to be --version (commander suggests from the program's options too otherwise).
  .enablePositionalOptions()
  // Commander's parse errors are thrown to the catch below instead of exiting 1: usage errors exit 2.
  // Subcommands inherit this from the program, so it is set before they are added.
  .exitOverride()
  .showHelpAfterError('Run `autopoll --help` for the commands.');

registerUp(program);
registerProducer(program);
registerConsumer(program);
registerBoard(program);
registerReplay(program);
registerStatus(program);
registerAsk(program);
registerDoctor(program);
registerTrace(program);
registerMcp(program);
// One line pointing at the help, not the whole help: the error would scroll out of sight above it.
for (const command of program.commands) command.showHelpAfterError(`Run \`autopoll ${command.name()} --help\` for its options.`);

async function main(argv: string[]): Promise<void> {
  const mistaken = newcomerSuggestion(argv.slice(2), program.commands.map((c) => c.name()));
  if (mistaken) {
    const command = program.commands.find((c) => c.name() === mistaken.suggestion);
    const what = command ? ` ${command.description()}` : '';
    program.error(`error: unknown command '${mistaken.typed}'\n(Did you mean \`autopoll ${mistaken.suggestion}\`?${what})`, { code: 'commander.unknownCommand' });
  }
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  // Commander has printed its message (and the hint) already.
  if (err instanceof CommanderError) process.exit(usageExitCode(err));
  // Known by name, not class: importing the classes would load the parts that throw them (express
  // for BindRefusedError) into every command, --help included.
  const name = err instanceof Error ? err.name : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'ConfigError' || name === 'BindRefusedError') {
    process.stderr.write(`autopoll: ${message}\nRun with --help for the options.\n`);
    process.exit(2);
  }
  // A configuration that can serve nothing, or shares its --prefix with another bridge (its
  // message says the fix): 2, as `ask` exits for the same conversations.
  if (name === 'NothingToServeError' || name === 'PrefixTakenError') {
    process.stderr.write(`autopoll: ${message}\n`);
    process.exit(2);
  }
  process.stderr.write(`autopoll: ${message}\n`);
  process.exit(1);
});
