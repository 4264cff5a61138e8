import type { Command } from 'commander';
import { collectStatus } from '../../ops/status/collectStatus.js';
import { formatStatus } from '../../ops/status/formatStatus.js';
import { chosenRedis, connectOnce } from '../connect.js';
import { addOptions, COMMON, parseOptions, STATUS } from '../options.js';

export function registerStatus(program: Command): void {
  const specs = { redis: COMMON.redis, redisCluster: COMMON.redisCluster, prefix: COMMON.prefix, ...STATUS };
  addOptions(
    program.command('status').description('served conversations, ledger, queues, consumers and producers, once (--json: the same as JSON)'),
    specs,
  ).action(async (_opts, cmd: Command) => {
    const o = parseOptions(specs, cmd.opts());
    // Unreachable Redis throws one line, which main prints before exiting 1; a Redis that stops
    // answering later fails the read that waits on it, so the command never hangs.
    const redis = await connectOnce(await chosenRedis(o, cmd), 5000);
    try {
      const now = Date.now();
      const report = await collectStatus(redis, o.prefix, o.bridgeDb, now);
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, now));
    } finally {
      redis.disconnect();
    }
  });
}
