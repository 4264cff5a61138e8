import type { CommanderError } from 'commander';

/**
 * Words a newcomer types for a command autopoll names otherwise. Commander suggests the closest
 * name for a typo, but by spelling: "start" is nearer "status" than "up".
 */
const NEWCOMER_WORDS: Record<string, string> = {
  start: 'up', run: 'up', serve: 'up', server: 'up', launch: 'up', go: 'up', dev: 'up', daemon: 'up',
  worker: 'consumer', work: 'consumer', answer: 'consumer', consume: 'consumer',
  watch: 'producer', poll: 'producer', produce: 'producer',
  ui: 'board', dashboard: 'board', web: 'board', monitor: 'board',
  ps: 'status', info: 'status', stats: 'status', list: 'status', ls: 'status', show: 'status',
  retry: 'replay', rerun: 'replay', resend: 'replay',
  query: 'ask', question: 'ask', send: 'ask', test: 'ask', try: 'ask',
  check: 'doctor', health: 'doctor', diagnose: 'doctor', verify: 'doctor', ping: 'doctor',
  version: '--version',
};

/**
 * The command word the user typed when it is not a command but a word newcomers use for one,
 * with the command (or option) to suggest; undefined otherwise. The program itself takes no option
 * with a value, so the command is the first argument that is not an option.
 */
export function newcomerSuggestion(args: string[], commands: string[]): { typed: string; suggestion: string } | undefined {
  const typed = args.find((a) => !a.startsWith('-'));
  if (typed === undefined || commands.includes(typed)) return undefined;
  const word = typed.toLowerCase();
  // Own properties only: `constructor` or `__proto__` is no newcomer's word.
  return Object.hasOwn(NEWCOMER_WORDS, word) ? { typed, suggestion: NEWCOMER_WORDS[word]! } : undefined;
}

/**
 * Commander's exit for a usage error (unknown command or option, missing or excess argument, no
 * command at all) is 1; autopoll's is 2, as for a bad option value. Help and --version stay 0.
 */
export function usageExitCode(err: CommanderError): number {
  return err.exitCode === 0 ? 0 : 2;
}
