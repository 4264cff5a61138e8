import { afterEach, describe, expect, it } from 'vitest';
import { Producer } from '../../src/producer/Producer.js';
import { BridgeFixture } from '../support/bridge.js';
import { capturingLogger, producerOptions, testPrefix, testRedis } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

/**
 * The producer taking up conversations (at its start, and at the commit that created one: its 2 s
 * refresh is out of the way here) on failure paths: a full questions queue, a locked bridge file,
 * a stop meanwhile.
 */
describe('conversations the producer starts to serve', () => {
  let bridge: BridgeFixture;
  afterEach(() => bridge?.close());

  /** With neither its refresh nor its periodic heartbeat within the test: only the look at each commit serves a new conversation. */
  async function started(extra: { maxQueued?: number } = {}, fixture = BridgeFixture.create()) {
    bridge = fixture;
    const { logger, lines } = capturingLogger();
    const redis = testRedis(undefined, logger);
    const producer = await Producer.open(producerOptions(redis, testPrefix(), bridge.path, { role: 'haiku_shard', refreshIntervalMs: 600_000, heartbeatIntervalSec: 600, ...extra }), logger);
    await producer.start();
    const close = async () => {
      await producer.close();
      await redis.quit();
    };
    return { producer, lines, close };
  }
  const sideB = (conversationId: string) => bridge.client.sessionStatus(conversationId, 'b');
  /** What was logged after 'producer stopped', and every error: a clean stop has neither. */
  const afterStop = (lines: Array<Record<string, unknown>>) => lines.slice(lines.findIndex((l) => l.msg === 'producer stopped') + 1);
  const errors = (lines: Array<Record<string, unknown>>) => lines.filter((l) => Number(l.level) >= 50).map((l) => l.msg);

  it('side b beats for every newly served conversation at once, even while one\'s backlog waits for room in a full queue; a stop meanwhile is clean', async () => {
    // Before the producer starts: a conversation with two questions (one fills --max-queued 1, the
    // other waits for room: no consumer here) and one with none. The start serves both at once.
    bridge = BridgeFixture.create();
    const busy = bridge.createConversation();
    const [fills, waits] = [bridge.ask(busy.id, 'q_fills', 'fills the queue'), bridge.ask(busy.id, 'q_waits', 'waits for room')];
    const quiet = bridge.createConversation();
    const { lines, close } = await started({ maxQueued: 1 }, bridge);
    await waitFor('the queue full', () => bridge.ledger(fills));
    // An asker that looks for side b before it asks (autopoll mcp) must see it while a backlog waits.
    await waitFor('side b beats for both conversations', () => sideB(busy.id) && sideB(quiet.id));
    expect(bridge.ledger(waits)).toBeUndefined();
    await close();
    await new Promise((r) => setTimeout(r, 500));
    expect(afterStop(lines)).toEqual([]);
    expect(errors(lines)).toEqual([]);
  });

  it('stopped while its heartbeat waits out a lock: close() waits for it, and nothing touches the bridge file or logs after "producer stopped"', async () => {
    const { producer, lines, close } = await started();
    const conv = bridge.createConversation();
    bridge.db.exec('BEGIN IMMEDIATE');
    try {
      await waitFor('the new conversation served', () => producer.serves(conv.id));
      await new Promise((r) => setTimeout(r, 300)); // its heartbeat now retries SQLITE_BUSY
      await close();
    } finally {
      bridge.db.exec('COMMIT');
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(afterStop(lines)).toEqual([]);
    expect(errors(lines)).toEqual([]);
  });
});
