import { afterEach, describe, expect, it } from 'vitest';
import { BridgeFixture } from '../support/bridge.js';
import { capturingLogger, InProcessPipeline, testLogger, testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

describe('which conversations the producer serves', () => {
  let bridge: BridgeFixture;
  let pipeline: InProcessPipeline;

  afterEach(async () => {
    await pipeline?.close();
    bridge?.close();
  });

  it('refuses a wrong token with a clear error, skips an expired conversation, and keeps serving the good one', async () => {
    bridge = BridgeFixture.create();
    const good = bridge.createConversation();
    const wrong = bridge.createConversation();
    const expired = bridge.createConversation({ expiresInSec: -60 });
    const { logger, lines } = capturingLogger();
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, {
      conversations: [
        { id: good.id, token: good.tokenB },
        { id: wrong.id, token: wrong.tokenA }, // side a's token is not side b's
        { id: expired.id, token: expired.tokenB },
        { id: 'conv_doesnotexist0000', token: 'f'.repeat(64) },
      ],
    }, {}, logger).start();

    const wrongQ = bridge.ask(wrong.id, 'q_w', 'hello?');
    const expiredQ = bridge.ask(expired.id, 'q_e', 'hello?');
    bridge.ask(good.id, 'q_g', 'hello?');
    await waitFor('good answer', () => bridge.responses(good.id).length === 1);
    await new Promise((r) => setTimeout(r, 200));

    expect(bridge.responses(wrong.id)).toEqual([]);
    expect(bridge.responses(expired.id)).toEqual([]);
    expect(bridge.ledger(wrongQ)).toBeUndefined();
    expect(bridge.ledger(expiredQ)).toBeUndefined();
    const read = (id: number) => (bridge.db.prepare('SELECT read FROM messages WHERE id = ?').get(id) as { read: number }).read;
    expect(read(wrongQ)).toBe(0); // left for whoever is entitled to it
    expect(read(expiredQ)).toBe(0);

    const msgs = lines.map((l) => String(l.msg));
    expect(msgs).toContain(`conversation ${wrong.id}: token refused, it is not this conversation's side-b token; pass --conversation ${wrong.id}:<session_b_token>`);
    expect(msgs.some((m) => m.startsWith(`conversation ${expired.id} expired at `) && m.endsWith('skipped'))).toBe(true);
    expect(msgs.some((m) => m.includes('conv_doesnotexist0000 does not exist'))).toBe(true);
    const errorLine = lines.find((l) => String(l.msg).includes('token refused'))!;
    expect(errorLine.level).toBe(50);
    // No token, of any side, appears in any log line.
    const all = JSON.stringify(lines);
    for (const c of [good, wrong, expired]) {
      expect(all).not.toContain(c.tokenA);
      expect(all).not.toContain(c.tokenB);
    }
  });

  it('serves every unexpired conversation of a role, including ones created while running, with their earlier unread questions', async () => {
    bridge = BridgeFixture.create();
    const before = bridge.createConversation({ role: 'haiku_shard' });
    const otherRole = bridge.createConversation({ role: 'someone_else' });
    const expired = bridge.createConversation({ role: 'haiku_shard', expiresInSec: -1 });
    bridge.ask(before.id, 'q_early', 'asked before autopoll started');
    const otherQ = bridge.ask(otherRole.id, 'q_other', 'not for us');
    const expiredQ = bridge.ask(expired.id, 'q_expired', 'too late');
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { role: 'haiku_shard', refreshIntervalMs: 100 }, {}, testLogger()).start();
    await waitFor('early answer', () => bridge.responses(before.id).length === 1);

    // A new conversation appears, and its first question is written before the producer re-reads the
    // conversations: the scanner passes it by, and the backlog pass on pick-up must still take it.
    const later = bridge.createConversation({ role: 'haiku_shard' });
    bridge.ask(later.id, 'q_late_1', 'first');
    bridge.ask(later.id, 'q_late_2', 'second');
    await waitFor('later answers', () => bridge.responses(later.id).length === 2);
    expect(bridge.responses(later.id).map((r) => r.body.query_id).sort()).toEqual(['q_late_1', 'q_late_2']);

    expect(bridge.ledger(otherQ)).toBeUndefined();
    expect(bridge.ledger(expiredQ)).toBeUndefined();
    const status = bridge.db.prepare("SELECT conversation_id FROM session_status WHERE session_id = 'b' ORDER BY conversation_id").all() as Array<{ conversation_id: string }>;
    expect(status.map((s) => s.conversation_id).sort()).toEqual([before.id, later.id].sort());
  });

  it('serves a role conversation created while running at once, not at the next refresh: side b\'s heartbeat, then its first questions; another role\'s stay unread', async () => {
    bridge = BridgeFixture.create();
    const { logger, lines } = capturingLogger();
    // No refresh within the test: only the producer's look at each commit can pick a new conversation up.
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { role: 'haiku_shard', refreshIntervalMs: 600_000 }, {}, logger).start();
    const sideB = (id: string) => bridge.db.prepare("SELECT status FROM session_status WHERE conversation_id = ? AND session_id = 'b'").get(id);
    // An asker that waits for side b's heartbeat before it asks (autopoll mcp) gets one.
    const quiet = bridge.createConversation({ role: 'haiku_shard' });
    await waitFor('side b beats for the new conversation', () => sideB(quiet.id));
    for (let i = 0; i < 3; i++) {
      const other = bridge.createConversation({ role: 'someone_else' });
      const otherQ = bridge.ask(other.id, `q_other_${i}`, 'not for us');
      const conv = bridge.createConversation({ role: 'haiku_shard' });
      bridge.ask(conv.id, `q_new_${i}_a`, 'first');
      bridge.ask(conv.id, `q_new_${i}_b`, 'second');
      await waitFor(`the answers in conversation ${i + 1}`, () => bridge.responses(conv.id).length === 2);
      expect(bridge.responses(conv.id).map((r) => r.body.query_id).sort()).toEqual([`q_new_${i}_a`, `q_new_${i}_b`]);
      expect(bridge.ledger(otherQ)).toBeUndefined();
      expect((bridge.db.prepare('SELECT read FROM messages WHERE id = ?').get(otherQ) as { read: number }).read).toBe(0);
    }
    expect(lines.filter((l) => l.msg === 'serving conversation')).toHaveLength(4);
  });

  it('creates the bridge file with the bridge schema when it does not exist', async () => {
    const dir = (await import('../support/bridge.js')).tempDir();
    const path = `${dir}/nested/new-bridge.db`;
    pipeline = await new InProcessPipeline(testPrefix(), path, { role: 'haiku_shard' }).start();
    bridge = new BridgeFixture(path);
    const tables = (bridge.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['audit_log', 'autopoll_ledger', 'conversations', 'messages', 'session_status']));
    expect(bridge.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const conv = bridge.createConversation({ role: 'haiku_shard' });
    bridge.ask(conv.id, 'q_new', 'works on a fresh file?');
    await waitFor('answer', () => bridge.responses(conv.id).length === 1);
  });
});
