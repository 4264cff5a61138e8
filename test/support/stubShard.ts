import { inject } from 'vitest';
import { tempDir } from './bridge.js';
import { AutopollProcess } from './cli.js';

/**
 * A real `autopoll up` (producer and stub consumer) serving `role` on the bridge file over the
 * suite's Redis: the shard the `autopoll mcp` tests ask. Each answer takes `latencyMs`; a failed
 * one is not retried, so a `#stub-fail` question fails at once.
 */
export async function startStubShard(o: { role: string; bridgePath: string; prefix: string; latencyMs: number; contextRoot?: string; extra?: string[] }): Promise<AutopollProcess> {
  const up = new AutopollProcess([
    'up', '--answerer', 'stub', '--stub-latency-ms', String(o.latencyMs), '--sessions', '12', '--attempts', '1', '--backoff-ms', '0',
    '--role', o.role, '--bridge-db', o.bridgePath, '--context-root', o.contextRoot ?? tempDir('autopoll-mcp-context-'),
    '--redis', inject('redisUrl'), '--prefix', o.prefix, '--port', '0', ...(o.extra ?? []),
  ]);
  await up.waitForLog(/consumer started/);
  return up;
}
