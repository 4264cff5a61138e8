import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, COMMON, CONSUMER, SERVER } from '../options.js';

export const CONSUMER_SPECS = { ...COMMON, ...CONSUMER, ...SERVER };

export function registerConsumer(program: Command): void {
  addOptions(program.command('consumer').description('answer questions from Redis; needs only REDIS_URL (and Claude credentials)'), CONSUMER_SPECS)
    .action(lazyAction(CONSUMER_SPECS, async () => (await import('../run/consumer.js')).runConsumer));
}
