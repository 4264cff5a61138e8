import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, BOARD, COMMON } from '../options.js';

export const BOARD_SPECS = { ...COMMON, ...BOARD };

export function registerBoard(program: Command): void {
  addOptions(program.command('board').description('Bull Board over both queues, with /healthz, /readyz and /metrics; needs only REDIS_URL'), BOARD_SPECS)
    .action(lazyAction(BOARD_SPECS, async () => (await import('../run/board.js')).runBoard));
}
