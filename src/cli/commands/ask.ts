import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, ASK } from '../options.js';

export function registerAsk(program: Command): void {
  addOptions(
    program
      .command('ask')
      .argument('<question>', 'the question, sent as a query from side a')
      .description('ask one question on the bridge as side a and print the answer (exit 0 answered, 1 error response, 3 no answer in time)'),
    ASK,
  ).action(lazyAction(ASK, async () => (await import('../run/ask.js')).runAsk));
}
