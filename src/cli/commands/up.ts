import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, BOARD, COMMON, CONSUMER, DEFAULT_ROLE, PRIVATE_REDIS, PRODUCER } from '../options.js';

const role = { ...PRODUCER.role, help: `${PRODUCER.role.help} (default: ${DEFAULT_ROLE} when no --conversation is given)` };
export const UP_SPECS = { ...COMMON, ...PRIVATE_REDIS, ...PRODUCER, role, ...CONSUMER, ...BOARD };

export function registerUp(program: Command): void {
  addOptions(program.command('up').description('producer, consumer and board in one process (the default of npm start)'), UP_SPECS)
    .action(lazyAction(UP_SPECS, async () => (await import('../run/up.js')).runUp));
}
