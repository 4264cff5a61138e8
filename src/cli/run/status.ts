import type { Command } from 'commander';
import { collectStatus } from '../../ops/status/collectStatus.js';
import { formatStatus } from '../../ops/status/formatStatus.js';
import type { STATUS_SPECS } from '../commands/status.js';
import { connectOnce } from '../connect.js';
import type { Parsed } from '../options.js';

export async function runStatus(o: Parsed<typeof STATUS_SPECS>, cmd: Command): Promise<void> {
  // Unreachable Redis throws one line, which main prints before exiting 1; a Redis that stops
  // answering later fails the read that waits on it, so the command never hangs.
  const redis = await connectOnce(o, cmd, 5000);
  try {
    const now = Date.now();
    const report = await collectStatus(redis, o.prefix, o.bridgeDb, now);
    process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, now));
  } finally {
    redis.disconnect();
  }
}
