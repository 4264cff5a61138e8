import type { Command } from 'commander';
import type { Parsed, Specs } from './options.js';

/** What a command does once its options are valid: its arguments come first, as commander passes them. */
export type CommandRun<S extends Specs> = (o: Parsed<S>, cmd: Command, args: unknown[]) => Promise<void>;

/**
 * A commander action that imports its command's code (and zod, to check the options) only when the
 * command runs: `--help` and every other command start without them, which is most of their start time.
 */
export function lazyAction<S extends Specs>(specs: S, load: () => Promise<CommandRun<S>>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    // Commander passes the arguments, then the options, then the command.
    const cmd = args[args.length - 1] as Command;
    const [{ parseOptions }, run] = await Promise.all([import('./parseOptions.js'), load()]);
    await run(parseOptions(specs, cmd.opts()), cmd, args.slice(0, -2));
  };
}
