/**
 * The start-up benchmark: how soon each command is doing its work. `--help` and `status --help`
 * (wall time of the whole process, spawned N times); a producer spawned with a question already
 * waiting, a warm stub consumer already running, until the answer row is in the bridge; a consumer
 * spawned with the real Claude Code binary against the fake API until its first session is warm.
 */
import { distribution, type Distribution } from './numbers.js';
import { timeCommand } from './startup/help.js';
import { timeFirstAnswers } from './startup/firstAnswer.js';
import { timeClaudeWarm } from './startup/claudeWarm.js';

export const STARTUP_TARGETS = {
  /** Median wall ms of `autopoll --help` and of `autopoll status --help`. */
  helpMs: 200,
  /** Producer spawn -> the first answer row of a question already waiting, p50 ms. */
  firstAnswerMs: 500,
};

export interface StartupConfig {
  /** Spawns of each --help command. */
  helpRuns: number;
  /** Producers spawned, each with a new question waiting. */
  producerRuns: number;
  /** Consumers spawned with the Claude answerer, the binary the Agent SDK ships (0 skips it). */
  claudeRuns: number;
}

export interface StartupResult {
  benchmark: 'startup';
  targets: typeof STARTUP_TARGETS;
  config: StartupConfig;
  /** Wall ms per spawn; `node -e 0` is the floor no command can go under on this machine. */
  help: Record<'help' | 'statusHelp' | 'nodeAlone', Distribution | null>;
  /** Producer spawn -> first answer row, ms. */
  firstAnswer: Distribution | null;
  /** Consumer spawn -> its log's `Claude Code session ready`, ms. */
  claudeWarm: Distribution | null;
}

export async function runStartupBench(config: StartupConfig, log: (line: string) => void): Promise<StartupResult> {
  log(`[startup] --help, status --help and node -e 0, ${config.helpRuns} spawns each`);
  const help = {
    help: distribution(timeCommand(['--help'], config.helpRuns)),
    statusHelp: distribution(timeCommand(['status', '--help'], config.helpRuns)),
    nodeAlone: distribution(timeCommand(null, config.helpRuns)),
  };
  log(`[startup] producer spawn -> first answer, ${config.producerRuns} runs`);
  const firstAnswer = distribution(await timeFirstAnswers(config.producerRuns, log));
  const claudeWarm = config.claudeRuns > 0 ? distribution(await timeClaudeWarm(config.claudeRuns, log)) : null;
  return { benchmark: 'startup', targets: STARTUP_TARGETS, config, help, firstAnswer, claudeWarm };
}
