import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { BridgeFixture } from '../support/bridge.js';
import { AutopollProcess } from '../support/cli.js';
import { McpSession } from '../support/mcpClient.js';
import { testPrefix } from '../support/pipeline.js';

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
    up = new AutopollProcess([
      'up', '--answerer', 'stub', '--role', ROLE, '--bridge-db', bridge.path, '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--port', '0', ...NO_POLL,
    ]);
    await up.waitForLog(/consumer started/);
    mcp = await McpSession.start(['--bridge-db', bridge.path, '--role', ROLE, '--redis', inject('redisUrl'), ...NO_POLL]);
  });

  afterAll(async () => {
    await mcp?.close();
    await up?.kill('SIGTERM');
    bridge?.close();
  });

  it('40 questions asked one at a time are each taken, answered and read without the poll', async () => {
    // The first takes up the conversation (the producer's own 2 s refresh, not the poll).
    expect((await mcp.call('ask', { question: 'first', wait_seconds: 30 })).structured).toMatchObject({ status: 'answered' });
    const late: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await mcp.call('ask', { question: `one at a time ${i}`, wait_seconds: 10 });
      if (r.structured.status !== 'answered') late.push(`${i}: ${r.structured.status as string} ${r.text}`);
    }
    expect(late).toEqual([]);
  }, 120_000);
});
