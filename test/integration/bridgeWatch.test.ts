import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { BridgeFixture } from '../support/bridge.js';
import type { AutopollProcess } from '../support/cli.js';
import { McpSession } from '../support/mcpClient.js';
import { testPrefix } from '../support/pipeline.js';
import { startStubShard } from '../support/stubShard.js';

const ROLE = 'watch_shard';
/** Long enough that an answer in time can only have come from watching the file. */
const NO_POLL = ['--poll-interval-ms', '60000'];

/**
 * Every commit of another process is noticed by watching the bridge file, not by the fallback poll:
 * with the poll at a minute, a producer and an `autopoll mcp` server (both BridgeWatchers) still
 * pass each of many questions asked one at a time in a moment. A commit is visible a little after
 * its `-wal` write, the event's, so a watcher that looked only then missed some (one in ten here).
 */
describe('watching the bridge file', () => {
  let bridge: BridgeFixture;
  let up: AutopollProcess;
  let mcp: McpSession;

  beforeAll(async () => {
    bridge = BridgeFixture.create();
    up = await startStubShard({ role: ROLE, bridgePath: bridge.path, prefix: testPrefix(), latencyMs: 0, extra: NO_POLL });
    mcp = await McpSession.start(['--bridge-db', bridge.path, '--role', ROLE, '--redis', inject('redisUrl'), ...NO_POLL]);
  });

  afterAll(async () => {
    await mcp?.close();
    await up?.kill('SIGTERM');
    bridge?.close();
  });

  it('40 questions asked one at a time are each taken, answered and read without the poll', async () => {
    // The first creates the conversation, which the producer takes up at that commit.
    expect((await mcp.call('ask', { question: 'first', wait_seconds: 30 })).structured).toMatchObject({ status: 'answered' });
    const late: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await mcp.call('ask', { question: `one at a time ${i}`, wait_seconds: 10 });
      if (r.structured.status !== 'answered') late.push(`${i}: ${r.structured.status as string} ${r.text}`);
    }
    expect(late).toEqual([]);
  }, 120_000);
});
