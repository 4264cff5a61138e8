import { spawn } from 'node:child_process';
import { copyFileSync, renameSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bridgeNow } from '../../src/bridge/timestamp.js';
import { BridgeFixture } from '../support/bridge.js';
import { McpSession } from '../support/mcpClient.js';
import { waitFor } from '../support/wait.js';

/**
 * `autopoll mcp` when the bridge file misbehaves: locked by another process, replaced under it.
 * No shard runs: a given conversation whose side b heartbeats (written here) is all it needs to ask.
 */
describe('autopoll mcp on a troubled bridge file', () => {
  async function served(): Promise<{ bridge: BridgeFixture; server: McpSession; conversationId: string }> {
    const bridge = BridgeFixture.create();
    onTestFinished(() => bridge.close());
    const conv = bridge.createConversation({ role: 'troubled_shard' });
    bridge.db.prepare("INSERT INTO session_status (conversation_id, session_id, status, last_heartbeat) VALUES (?, 'b', 'waiting', ?)").run(conv.id, bridgeNow());
    const server = await McpSession.start(['--bridge-db', bridge.path, '--conversation', conv.id, '--progress-interval', '1', '--redis', 'redis://127.0.0.1:1'], { AUTOPOLL_MCP_TOKEN: conv.tokenA });
    onTestFinished(() => server.close());
    return { bridge, server, conversationId: conv.id };
  }

  /** A writer of the bridge's own kind (Python sqlite3) holding the write lock for `seconds`. */
  async function lockFor(path: string, seconds: number): Promise<{ released: Promise<void> }> {
    const child = spawn('python3', ['-c', [
      'import sqlite3, sys, time',
      'c = sqlite3.connect(sys.argv[1], isolation_level=None)',
      "c.execute('BEGIN IMMEDIATE')",
      "print('locked', flush=True)",
      'time.sleep(float(sys.argv[2]))',
      "c.execute('COMMIT')",
    ].join('\n'), path, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => void child.kill());
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    // Wrapped: an async function's returned promise would be awaited with it.
    return { released: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
  }

  const asked = (bridge: BridgeFixture, conversationId: string) =>
    (bridge.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE conversation_id = ? AND from_session = 'a'").get(conversationId) as { n: number }).n;

  it('a lock held for 3 s: the ask waits it out without stalling the server (another call answers meanwhile), then asks', async () => {
    const { bridge, server, conversationId } = await served();
    const { released } = await lockFor(bridge.path, 3);
    const started = Date.now();
    const asking = server.call('ask', { question: 'asked through a lock', wait_seconds: 0 });
    // A synchronous busy wait would hold every call: this one answers while the ask waits.
    const status = await server.call('shard_status');
    expect(Date.now() - started, 'not after the 3 s lock').toBeLessThan(2500);
    expect(status.structured).toMatchObject({ serving: true, conversation: { id: conversationId } });
    const r = await asking;
    await released;
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    expect(r.structured).toMatchObject({ status: 'waiting', conversationId });
    expect(asked(bridge, conversationId)).toBe(1);
  });

  it('a lock held past the bridge\'s 10 s: a tool error that says so, nothing asked, and the next call works', async () => {
    const { bridge, server, conversationId } = await served();
    const { released } = await lockFor(bridge.path, 12);
    const r = await server.call('ask', { question: 'asked into a stuck lock', wait_seconds: 0 });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/stayed locked by another process for longer than the bridge's 10 s busy timeout \(SQLITE_BUSY\): try the call again/) });
    await released;
    expect(asked(bridge, conversationId)).toBe(0);
    expect((await server.call('ask', { question: 'after the lock', wait_seconds: 0 })).structured).toMatchObject({ status: 'waiting' });
    expect(asked(bridge, conversationId)).toBe(1);
  }, 30_000);

  it('a call cancelled while it waits for the shard to beat asks nothing, even once the shard comes', async () => {
    const bridge = BridgeFixture.create();
    onTestFinished(() => bridge.close());
    const conv = bridge.createConversation({ role: 'late_shard' });
    const server = await McpSession.start(['--bridge-db', bridge.path, '--conversation', conv.id, '--redis', 'redis://127.0.0.1:1'], { AUTOPOLL_MCP_TOKEN: conv.tokenA });
    onTestFinished(() => server.close());
    const cancel = new AbortController();
    const call = server.client.callTool({ name: 'ask', arguments: { question: 'never mind' } }, undefined, { signal: cancel.signal }).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 500));
    cancel.abort();
    expect(await call).toBeInstanceOf(Error);
    // The shard beats now, inside the server's 10 s grace: the cancelled call must not send its question.
    bridge.db.prepare("INSERT INTO session_status (conversation_id, session_id, status, last_heartbeat) VALUES (?, 'b', 'waiting', ?)").run(conv.id, bridgeNow());
    await new Promise((r) => setTimeout(r, 1500));
    expect(asked(bridge, conv.id)).toBe(0);
    expect((await server.call('ask', { question: 'this one, please', wait_seconds: 0 })).structured).toMatchObject({ status: 'waiting' });
    expect(asked(bridge, conv.id)).toBe(1);
  });

  it('an answer already read is still given after the file is replaced', async () => {
    const { bridge, server, conversationId } = await served();
    const r = await server.call('ask', { question: 'answered by hand', wait_seconds: 0 });
    const queryId = r.structured.queryId as string;
    // Side b answers as the bridge's own server would store it.
    bridge.client.send(conversationId, 'b', JSON.stringify({ type: 'response', query_id: queryId, answer: 'by hand', sources: [] }), { action_type: 'response' });
    expect((await server.call('get_answer', { query_id: queryId, wait_seconds: 10 })).structured).toMatchObject({ status: 'answered', answer: 'by hand' });
    renameSync(bridge.path, `${bridge.path}.old`);
    copyFileSync(`${bridge.path}.old`, bridge.path);
    await waitFor('the server to notice', async () => (await server.call('shard_status')).structured.bridgeLost !== null, 10_000);
    expect((await server.call('get_answer', { query_id: queryId, wait_seconds: 0 })).structured).toMatchObject({ status: 'answered', answer: 'by hand' });
  });

  it('the file replaced while an ask waits: the call ends with a tool error saying to restart, and the server stays up to say so', async () => {
    const { bridge, server } = await served();
    const waiting = server.call('ask', { question: 'asked before the swap', wait_seconds: 60 });
    await new Promise((r) => setTimeout(r, 500));
    renameSync(bridge.path, `${bridge.path}.old`);
    copyFileSync(`${bridge.path}.old`, bridge.path);
    const r = await waiting;
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/bridge file can no longer be (read|used).*restart autopoll mcp/) });
    const again = await server.call('ask', { question: 'after the swap' });
    expect(again).toMatchObject({ isError: true, text: expect.stringMatching(/restart autopoll mcp/) });
    const status = await server.call('shard_status');
    expect(status.structured.bridgeLost).toEqual(expect.any(String));
  });
});
