import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, COMMON, PRODUCER, SERVER } from '../options.js';

export const PRODUCER_SPECS = { ...COMMON, ...PRODUCER, ...SERVER };

export function registerProducer(program: Command): void {
  addOptions(program.command('producer').description('watch the bridge, enqueue questions, write answers back; serves --conversation and/or --role (one is needed)'), PRODUCER_SPECS)
    .action(lazyAction(PRODUCER_SPECS, async () => (await import('../run/producer.js')).runProducer));
}
