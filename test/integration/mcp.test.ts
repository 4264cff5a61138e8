import { execFileSync } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject, onTestFinished } from 'vitest';
import { BridgeFixture, tempDir } from '../support/bridge.js';
import { type AutopollProcess, runAutopoll } from '../support/cli.js';
import { McpSession } from '../support/mcpClient.js';
import { startStubShard } from '../support/stubShard.js';
import { bridgeNow, formatBridgeTimestamp } from '../../src/bridge/timestamp.js';
import { testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const ROLE = 'mcp_shard';
/** The stub's time per answer: long enough to outlast a short wait, short enough for the suite. */
const LATENCY_MS = 2500;

/**
 * `autopoll mcp` driven by the MCP SDK's client over stdio, against a real bridge file and a real
 * `autopoll up` (producer, stub consumer) on the suite's Redis.
 */
describe('autopoll mcp', () => {
  let bridge: BridgeFixture;
  let up: AutopollProcess;
  let prefix: string;
  let contextRoot: string;

  const serverArgs = (...extra: string[]) => ['--bridge-db', bridge.path, '--redis', inject('redisUrl'), '--prefix', prefix, '--progress-interval', '1', ...extra];
  const start = async (...extra: string[]) => {
    const s = await McpSession.start(serverArgs('--role', ROLE, ...extra));
    onTestFinished(() => s.close());
    return s;
  };
  const conversationRow = (id: string) => bridge.db.prepare('SELECT * FROM conversations WHERE id = ?').get(id) as Record<string, string>;

  beforeAll(async () => {
    bridge = BridgeFixture.create();
    prefix = testPrefix();
    contextRoot = tempDir('autopoll-mcp-context-');
    writeFileSync(join(contextRoot, 'notes.md'), 'line one\n');
    up = await startStubShard({ role: ROLE, bridgePath: bridge.path, prefix, latencyMs: LATENCY_MS, contextRoot });
  });

  afterAll(async () => {
    await up?.kill('SIGTERM');
    bridge?.close();
  });

  it('ask blocks until the answer, reporting progress, and returns the answer, its sources, model and query id', async () => {
    const s = await start();
    const r = await s.call('ask', { question: 'what is in the notes?', context_file: 'notes.md' });
    expect(r.isError).toBe(false);
    const queryId = r.structured.queryId as string;
    expect(queryId).toMatch(/^q_[0-9a-f]{12}$/);
    expect(r.structured).toMatchObject({ status: 'answered', answer: `Stub answer to ${queryId}.`, model: 'stub', sources: [expect.stringContaining('notes.md:1')] });
    expect(r.text).toContain(`Stub answer to ${queryId}.`);
    expect(r.text).toContain('Sources:');
    // Sent at once and every second of the 2.5 s wait: a client resetting its timeout on progress never gives up.
    expect(r.progress.length).toBeGreaterThanOrEqual(2);
    expect(r.progress.map((p) => p.progress)).toEqual([...r.progress.map((p) => p.progress)].sort((a, b) => a - b));
    // Asked as the bridge's askers ask: side a of a conversation for the role, the query as PROTOCOL.md writes it.
    const conv = conversationRow(r.structured.conversationId as string);
    expect(conv).toMatchObject({ session_a_role: 'autopoll-mcp', session_b_role: ROLE });
    const [query] = bridge.db.prepare("SELECT message, metadata, read FROM messages WHERE conversation_id = ? AND from_session = 'a'").all(conv.id) as Array<Record<string, unknown>>;
    expect(query).toEqual({ message: `{"type": "query", "query_id": "${queryId}", "question": "what is in the notes?", "context_file": "notes.md"}`, metadata: '{"action_type": "question"}', read: 1 });
    const answer = bridge.db.prepare("SELECT read FROM messages WHERE conversation_id = ? AND from_session = 'b'").get(conv.id) as { read: number };
    expect(answer.read).toBe(1);
    // Neither side's token leaves the server: not in a result, not in a log line.
    expect(r.text + JSON.stringify(r.structured) + s.stderr).not.toContain(conv.session_a_token);
    expect(s.stderr).not.toContain(conv.session_b_token);
  });

  it('10 asks in flight at once from one client each get their own answer, in one conversation', async () => {
    const s = await start();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.call('ask', { question: `question number ${i}` })));
    const ids = results.map((r) => r.structured.queryId as string);
    expect(new Set(ids).size).toBe(10);
    for (const r of results) expect(r.structured).toMatchObject({ status: 'answered', answer: `Stub answer to ${r.structured.queryId as string}.` });
    expect(new Set(results.map((r) => r.structured.conversationId)).size).toBe(1);
    // Each question was asked once and answered once.
    const conv = results[0]!.structured.conversationId as string;
    const counts = bridge.db.prepare('SELECT from_session, COUNT(*) AS n FROM messages WHERE conversation_id = ? GROUP BY from_session ORDER BY from_session').all(conv);
    expect(counts).toEqual([{ from_session: 'a', n: 10 }, { from_session: 'b', n: 10 }]);
  });

  it('an ask that outlasts wait_seconds says "not answered yet" with its query id; get_answer then returns the late answer', async () => {
    const s = await start();
    const early = await s.call('ask', { question: 'slow one', wait_seconds: 1 });
    expect(early.isError).toBe(false);
    const queryId = early.structured.queryId as string;
    expect(early.structured).toMatchObject({ queryId, status: expect.stringMatching(/^(waiting|being_answered)$/) });
    expect(early.text).toContain('Not answered yet');
    expect(early.text).toContain(`"query_id": "${queryId}"`);
    const late = await s.call('get_answer', { query_id: queryId, wait_seconds: 30 });
    expect(late.structured).toMatchObject({ queryId, status: 'answered', answer: `Stub answer to ${queryId}.` });
    // Asked again once taken: the answer is remembered, not lost with the read mark.
    const again = await s.call('get_answer', { query_id: queryId, wait_seconds: 0 });
    expect(again.structured).toMatchObject({ status: 'answered', answer: `Stub answer to ${queryId}.` });
  });

  it('a restarted server still fetches a question an earlier one asked (found through the ledger), not one of another role', async () => {
    const s = await start();
    const early = await s.call('ask', { question: 'asked before a restart', wait_seconds: 0 });
    const queryId = early.structured.queryId as string;
    // Found through the shard's ledger: once the shard has taken it (a new conversation is taken up within its 2 s refresh).
    await waitFor('the shard to take the question', () => bridge.ledger(early.structured.messageId as number), 15_000);
    await s.close();
    const restarted = await start();
    const late = await restarted.call('get_answer', { query_id: queryId, wait_seconds: 30 });
    expect(late.structured).toMatchObject({ queryId, status: 'answered', answer: `Stub answer to ${queryId}.`, conversationId: early.structured.conversationId });
    // Its log is another pipe than the call's result: waited for, not read at once.
    await waitFor('the found question in the log', () => restarted.logLines().find((l) => l.msg === 'found a question this server did not ask or does not remember (asked before it started, or by another server)' && l.queryId === queryId));
    const otherRole = await McpSession.start(serverArgs('--role', 'another_role'));
    onTestFinished(() => otherRole.close());
    expect(await otherRole.call('get_answer', { query_id: queryId, wait_seconds: 0 })).toMatchObject({ isError: true });
  });

  it('a question the shard could not answer: a tool error with the reason, and get_answer gives the same', async () => {
    const s = await start();
    const r = await s.call('ask', { question: 'please #stub-fail' });
    expect(r.isError).toBe(true);
    expect(r.structured).toMatchObject({ status: 'failed', errorKind: 'stub_failure' });
    expect(r.text).toContain('stub failure requested by the question');
    const later = await s.call('get_answer', { query_id: r.structured.queryId as string, wait_seconds: 0 });
    expect(later.structured).toMatchObject({ status: 'failed', errorKind: 'stub_failure' });
  });

  it('bad input gets a tool error that says what to fix, and the server keeps serving', async () => {
    const s = await start('--context-root', contextRoot);
    const refusals: Array<[Record<string, unknown>, RegExp]> = [
      [{ question: '   ' }, /question is empty/],
      [{ question: 'x'.repeat(50_001) }, /50001 characters.*at most 50000/],
      [{ question: 'x'.repeat(49_990) }, /too long: the query message would be/],
      [{ question: 'read this', context_file: '/etc/passwd' }, /outside the context root.*shard would refuse it/],
      [{ question: 'read this', context_file: 'missing.md' }, /does not exist under the context root/],
      [{ question: 'wait', wait_seconds: -1 }, /wait_seconds must be 0 or more/],
      [{ question: 42 }, /question must be text/],
      [{}, /question/],
    ];
    for (const [args, message] of refusals) {
      const r = await s.call('ask', args);
      expect(r.isError, JSON.stringify(args).slice(0, 80)).toBe(true);
      expect(r.text).toMatch(message);
    }
    const unknown = await s.call('get_answer', { query_id: 'q_0123456789ab' });
    expect(unknown).toMatchObject({ isError: true, text: expect.stringMatching(new RegExp(`not asked through autopoll mcp for role ${ROLE}, or no shard has taken it yet.*autopoll trace q_0123456789ab`)) });
    const malformed = await s.call('get_answer', { query_id: 'DROP TABLE' });
    expect(malformed).toMatchObject({ isError: true, text: expect.stringMatching(/query_id must be the query_id an ask returned/) });
    // Nothing refused reached the bridge, and the server still answers.
    const ok = await s.call('ask', { question: 'still there?', context_file: 'notes.md' });
    expect(ok.structured).toMatchObject({ status: 'answered' });
    const asked = bridge.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE conversation_id = ? AND from_session = 'a'").get(ok.structured.conversationId) as { n: number };
    expect(asked.n).toBe(1);
  });

  it('no shard serving the role: a tool error naming the role and how to start one, nothing asked', async () => {
    const s = await McpSession.start(serverArgs('--role', 'nobody_serves_this'));
    onTestFinished(() => s.close());
    const r = await s.call('ask', { question: 'anyone?' });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/no shard is serving role nobody_serves_this.*autopoll up --role nobody_serves_this/) });
    const status = await s.call('shard_status');
    expect(status.structured).toMatchObject({ role: 'nobody_serves_this', serving: false, heartbeatAgeSeconds: null });
    const sent = bridge.db.prepare("SELECT COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.session_b_role = 'nobody_serves_this'").get() as { n: number };
    expect(sent.n).toBe(0);
  });

  it('shard_status: heartbeat age, queue depth, the producer of the role and the consumers', async () => {
    const s = await start();
    await s.call('ask', { question: 'warm up' });
    const r = await s.call('shard_status');
    expect(r.isError).toBe(false);
    expect(r.structured).toMatchObject({ role: ROLE, serving: true, heartbeatStatus: expect.any(String) });
    expect(r.structured.heartbeatAgeSeconds).toBeLessThan(120);
    const fleet = r.structured.fleet as { reachable: boolean; queue: Record<string, number>; producers: Array<{ role: string }>; consumers: Array<{ maxSessions: number }> };
    expect(fleet.reachable).toBe(true);
    expect(fleet.queue).toEqual({ waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number), failed: expect.any(Number) });
    expect(fleet.producers).toEqual([expect.objectContaining({ role: ROLE })]);
    expect(fleet.consumers).toEqual([expect.objectContaining({ maxSessions: 12 })]);
    expect(r.text).toMatch(new RegExp(`^A shard is serving role ${ROLE}`));
  });

  it('shard_status with Redis unreachable still reports the bridge side, and says why Redis was not read', async () => {
    const s = await McpSession.start(['--bridge-db', bridge.path, '--redis', 'redis://127.0.0.1:1', '--role', ROLE]);
    onTestFinished(() => s.close());
    const r = await s.call('shard_status');
    expect(r.structured).toMatchObject({ serving: true, fleet: { reachable: false, error: expect.stringContaining('127.0.0.1:1') } });
  });

  it('renews its conversation before it expires; questions of the old one are still fetched; a long wait does not renew each time', async () => {
    const s = await start();
    const first = await s.call('ask', { question: 'in the first conversation', wait_seconds: 0 });
    const firstId = first.structured.conversationId as string;
    // Waits longer than a conversation lives keep the one held (it has all the life a new one would).
    const long = await Promise.all([1, 2].map(() => s.call('ask', { question: 'long wait', wait_seconds: 20_000 })));
    expect(long.map((r) => r.structured.conversationId)).toEqual([firstId, firstId]);
    // Time passes: ten minutes left, under --renew-before (900 s).
    bridge.db.prepare('UPDATE conversations SET expires_at = ? WHERE id = ?').run(formatBridgeTimestamp((Date.now() + 600_000) * 1000), firstId);
    const second = await s.call('ask', { question: 'in the second', wait_seconds: 30 });
    expect(second.structured).toMatchObject({ status: 'answered' });
    expect(second.structured.conversationId).not.toBe(firstId);
    const third = await s.call('ask', { question: 'stays in the second', wait_seconds: 30 });
    expect(third.structured.conversationId).toBe(second.structured.conversationId);
    const late = await s.call('get_answer', { query_id: first.structured.queryId as string, wait_seconds: 30 });
    expect(late.structured).toMatchObject({ status: 'answered', conversationId: firstId });
    const renewed = s.logLines().filter((l) => l.msg === 'renewed the conversation before it expires');
    expect(renewed).toEqual([expect.objectContaining({ conversationId: second.structured.conversationId, replaces: firstId })]);
  });

  it('a shard beating other conversations of the role (served by grant) but never this one: no shard serving, nothing asked', async () => {
    const role = 'granted_only_role';
    const granted = bridge.createConversation({ role });
    bridge.db.prepare("INSERT INTO session_status (conversation_id, session_id, status, last_heartbeat) VALUES (?, 'b', 'waiting', ?)").run(granted.id, bridgeNow());
    const s = await McpSession.start(serverArgs('--role', role));
    onTestFinished(() => s.close());
    // Before it asks, the role's heartbeat is all there is to report.
    expect((await s.call('shard_status')).structured).toMatchObject({ serving: true, conversation: null });
    const r = await s.call('ask', { question: 'will anyone take this?' });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/no shard is serving role granted_only_role.*no shard has ever sent a side-b heartbeat for conversation conv_/) });
    const sent = bridge.db.prepare("SELECT COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.session_b_role = ? AND c.session_a_role = 'autopoll-mcp'").get(role) as { n: number };
    expect(sent.n).toBe(0);
    expect((await s.call('shard_status')).structured).toMatchObject({ serving: false, heartbeatAgeSeconds: null });
  });

  it('asks in a given conversation with its side-a token from AUTOPOLL_MCP_TOKEN; a wrong token is a tool error', async () => {
    const conv = bridge.createConversation({ role: ROLE });
    const s = await McpSession.start(serverArgs('--conversation', conv.id), { AUTOPOLL_MCP_TOKEN: conv.tokenA });
    onTestFinished(() => s.close());
    const r = await s.call('ask', { question: 'in my conversation' });
    expect(r.structured).toMatchObject({ status: 'answered', conversationId: conv.id });
    expect(s.stderr).not.toContain(conv.tokenA);

    const other = bridge.createConversation({ role: ROLE });
    const wrong = await McpSession.start(serverArgs('--conversation', other.id), { AUTOPOLL_MCP_TOKEN: conv.tokenA });
    onTestFinished(() => wrong.close());
    const refused = await wrong.call('ask', { question: 'let me in' });
    expect(refused).toMatchObject({ isError: true, text: expect.stringContaining(`AUTOPOLL_MCP_TOKEN is not the side-a token of conversation ${other.id}`) });
    expect(refused.text + wrong.stderr).not.toContain(conv.tokenA);
  });

  it('refuses a bad configuration at start with exit 2 and a message, never echoing the token', async () => {
    const conv = bridge.createConversation({ role: ROLE });
    const bad = await runAutopoll(['mcp', '--bridge-db', bridge.path, '--conversation', conv.id], { AUTOPOLL_MCP_TOKEN: `${conv.tokenA}x` });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('AUTOPOLL_MCP_TOKEN');
    expect(bad.stderr).not.toContain(conv.tokenA);
    const missing = await runAutopoll(['mcp', '--bridge-db', join(tempDir(), 'nope.db')]);
    expect(missing.code).toBe(2);
    const relative = await runAutopoll(['mcp', '--bridge-db', bridge.path, '--context-root', 'data/context']);
    expect(relative).toMatchObject({ code: 2, stderr: expect.stringContaining('absolute path') });
  });

  it('exits 0 when its client closes stdin, and on SIGTERM while an ask waits (the question stays asked)', async () => {
    const s = await start();
    await s.call('shard_status');
    await s.close();
    expect(await s.exited()).toEqual({ code: 0, signal: null });

    const t = await start();
    const waiting = t.call('ask', { question: 'asked before the stop' }).catch((err: Error) => err);
    // Once it is on the bridge (a new conversation is asked in once the shard has taken it up).
    await waitFor('the question on the bridge', () => bridge.db.prepare("SELECT 1 FROM messages WHERE message LIKE '%asked before the stop%'").get(), 15_000);
    process.kill(t.pid, 'SIGTERM');
    expect(await t.exited()).toEqual({ code: 0, signal: null });
    // The waiting call is answered with where its question stands, not dropped.
    const answered = await waiting;
    expect(answered).toMatchObject({ isError: false, text: expect.stringContaining('Not answered yet') });
    const row = bridge.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE message LIKE '%asked before the stop%'").get() as { n: number };
    expect(row.n).toBe(1);
  });

  it('the bridge file deleted while an ask waits: the call ends at once with a tool error saying to restart', async () => {
    const own = BridgeFixture.create();
    onTestFinished(() => own.close());
    // A given conversation whose side b beats, so the ask is sent and waits.
    const served = own.createConversation({ role: 'lost_role' });
    own.db.prepare("INSERT INTO session_status (conversation_id, session_id, status, last_heartbeat) VALUES (?, 'b', 'waiting', ?)").run(served.id, bridgeNow());
    const s = await McpSession.start(['--bridge-db', own.path, '--conversation', served.id, '--redis', 'redis://127.0.0.1:1'], { AUTOPOLL_MCP_TOKEN: served.tokenA });
    onTestFinished(() => s.close());
    const started = Date.now();
    const waiting = s.call('ask', { question: 'asked before the file goes', wait_seconds: 60 });
    await new Promise((r) => setTimeout(r, 1000));
    unlinkSync(own.path);
    const r = await waiting;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r).toMatchObject({ isError: true, text: expect.stringContaining(`the bridge file ${own.path} was deleted`) });
    expect(r.text).toContain('restart autopoll mcp');
    const status = await s.call('shard_status');
    expect(status.text).toContain('The bridge file can no longer be used');
  });

  it('what it wrote reads as the bridge\'s own server reads it (Python: token check, expiry, json, audit rows)', async () => {
    const s = await start();
    const r = await s.call('ask', { question: 'interop: does Python agree? password=hunter2' });
    expect(r.structured).toMatchObject({ status: 'answered', questionRedacted: true });
    expect(r.text).toContain('redacted what looked like a secret in the question');
    const conv = conversationRow(r.structured.conversationId as string);
    const script = `
import json, sqlite3, hmac, sys
from datetime import datetime, timedelta
db, conv_id, token_a, query_id = sys.argv[1:5]
conn = sqlite3.connect(db, timeout=10.0)
conn.execute('PRAGMA journal_mode=WAL')
c = conn.cursor()
c.execute('SELECT session_a_role, session_b_role, session_a_token, created_at, expires_at FROM conversations WHERE id = ?', (conv_id,))
role_a, role_b, stored_a, created, expires = c.fetchone()
assert hmac.compare_digest(token_a, stored_a)
assert datetime.utcnow() < datetime.fromisoformat(expires)
assert datetime.fromisoformat(expires) - datetime.fromisoformat(created) == timedelta(hours=3)
assert created == datetime.fromisoformat(created).isoformat() and expires == datetime.fromisoformat(expires).isoformat()
rows = c.execute('SELECT from_session, to_session, message, metadata, timestamp, read FROM messages WHERE conversation_id = ? ORDER BY timestamp ASC', (conv_id,)).fetchall()
assert [(r[0], r[1], r[5]) for r in rows] == [('a', 'b', 1), ('b', 'a', 1)], rows
query = json.loads(rows[0][2])
assert rows[0][2] == json.dumps({'type': 'query', 'query_id': query_id, 'question': 'interop: does Python agree? PASSWORD_REDACTED'}), rows[0][2]
assert json.loads(rows[0][3]) == {'action_type': 'question'}
assert json.loads(rows[1][2])['query_id'] == query_id
audit = c.execute('SELECT session_id, action, details FROM audit_log WHERE conversation_id = ? ORDER BY id', (conv_id,)).fetchall()
assert audit[0] == (None, 'create_conversation', json.dumps({'roles': ['autopoll-mcp', role_b]})), audit[0]
assert ('a', 'send_message', json.dumps({'to': 'b', 'message_length': len(rows[0][2]), 'redacted': True})) in audit, audit
assert audit[-1] == ('a', 'get_messages', json.dumps({'count': 1})), audit[-1]
c.execute("SELECT status, last_heartbeat FROM session_status WHERE conversation_id = ? AND session_id = 'b'", (conv_id,))
status, beat = c.fetchone()
assert (datetime.utcnow() - datetime.fromisoformat(beat)).total_seconds() < 120
print('ok', role_a)
`;
    const out = execFileSync('python3', ['-c', script, bridge.path, conv.id, conv.session_a_token, r.structured.queryId as string], { encoding: 'utf8' });
    expect(out.trim()).toBe('ok autopoll-mcp');
  });
});

