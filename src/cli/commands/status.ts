import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, OPERATOR_REDIS, STATUS } from '../options.js';

export const STATUS_SPECS = { ...OPERATOR_REDIS, ...STATUS };

export function registerStatus(program: Command): void {
  addOptions(
    program.command('status').description('served conversations, ledger, queues, consumers and producers, once (--json: the same as JSON)'),
    STATUS_SPECS,
  ).action(lazyAction(STATUS_SPECS, async () => (await import('../run/status.js')).runStatus));
}
