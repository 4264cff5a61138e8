import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, COMMON, STATUS } from '../options.js';

export const STATUS_SPECS = { redis: COMMON.redis, redisCluster: COMMON.redisCluster, prefix: COMMON.prefix, ...STATUS };

export function registerStatus(program: Command): void {
  addOptions(
    program.command('status').description('served conversations, ledger, queues, consumers and producers, once (--json: the same as JSON)'),
    STATUS_SPECS,
  ).action(lazyAction(STATUS_SPECS, async () => (await import('../run/status.js')).runStatus));
}
