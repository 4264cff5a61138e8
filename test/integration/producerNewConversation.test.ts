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
  async function started(extra: { maxQueued?: number } = {}) {
    bridge = BridgeFixture.create();
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

  /**
   * A conversation the producer's look at each commit misses (made with a rowid below the largest:
   * as after a delete), holding questions: they are scanned past while it is not served, so they
   * are a backlog when the next conversation's commit gets it served with that one.
   */
  function missedWithQuestions(roleA: string, questions: string[]): { id: string; asked: number[] } {
    return bridge.db.transaction(() => {
      const c = bridge.client.createConversation({ roleA, roleB: 'haiku_shard' });
      bridge.db.prepare('UPDATE conversations SET rowid = (SELECT MIN(rowid) FROM conversations) - 1 WHERE id = ?').run(c.id);
      return { id: c.id, asked: questions.map((q, i) => bridge.ask(c.id, `q_${roleA}_${i}`, q)) };
    })();
  }

  it('side b beats for newly served conversations at once, and for ones created later, while a backlog waits for room in a full queue; a stop meanwhile is clean', async () => {
    const { producer, lines, close } = await started({ maxQueued: 1 });
    const first = bridge.createConversation();
    const fills = bridge.ask(first.id, 'q_fills', 'fills the queue (no consumer here)');
    await waitFor('the queue full', () => bridge.ledger(fills));
    const missed = missedWithQuestions('worker', ['waits for room']);
    await new Promise((r) => setTimeout(r, 300));
    expect(producer.serves(missed.id)).toBe(false);
    const next = bridge.createConversation(); // served with the missed one, whose backlog then waits for room
    // An asker that looks for side b before it asks (autopoll mcp) must see it meanwhile.
    await waitFor('side b beats for both', () => sideB(missed.id) && sideB(next.id));
    const later = bridge.createConversation();
    await waitFor('side b beats for a conversation created while the backlog waits', () => sideB(later.id));
    expect(bridge.ledger(missed.asked[0]!)).toBeUndefined();
    await close();
    await new Promise((r) => setTimeout(r, 500));
    expect(afterStop(lines)).toEqual([]);
    expect(errors(lines)).toEqual([]);
  });

  it('a heartbeat that fails for newly served conversations holds up nothing: their backlog is still taken', async () => {
    const { lines, close } = await started();
    // The file refuses side b's status rows of this role_a's conversations (broken, full: as far as the beat can tell).
    bridge.db.exec("CREATE TRIGGER no_beat BEFORE INSERT ON session_status WHEN NEW.conversation_id IN (SELECT id FROM conversations WHERE session_a_role = 'unbeatable') BEGIN SELECT RAISE(ABORT, 'no beat for you'); END");
    const missed = missedWithQuestions('unbeatable', ['taken anyway?']);
    await new Promise((r) => setTimeout(r, 300));
    bridge.createConversation();
    await waitFor('the backlog taken', () => bridge.ledger(missed.asked[0]!));
    expect(sideB(missed.id)).toBeUndefined();
    expect(lines.some((l) => l.msg === 'side b heartbeat for newly served conversations failed; the periodic heartbeat beats for them')).toBe(true);
    await close();
  });

  it('a backlog take that fails for a while is taken once it can be, though no other commit wakes the producer', async () => {
    const { close } = await started();
    // The file refuses the question's ledger row for 2.5 s of wall time: lifted by the clock, not by a commit.
    const until = new Date(Date.now() + 2500).toISOString().replace('T', ' ').replace('Z', '');
    bridge.db.exec(`CREATE TRIGGER refuse_take BEFORE INSERT ON autopoll_ledger WHEN NEW.query_id = 'q_refused_0' AND julianday('now') < julianday('${until}') BEGIN SELECT RAISE(ABORT, 'not yet'); END`);
    const missed = missedWithQuestions('refused', ['taken in the end?']);
    await new Promise((r) => setTimeout(r, 300));
    bridge.createConversation(); // serves the missed one with it: its backlog take fails
    await waitFor('the backlog taken once the file takes it', () => bridge.ledger(missed.asked[0]!), 15_000);
    await close();
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
