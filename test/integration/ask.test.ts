import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject, onTestFinished } from 'vitest';
import { askQuestion } from '../../src/ops/ask/askQuestion.js';
import { BridgeFixture, tempDir } from '../support/bridge.js';
import { AutopollProcess, runAutopoll } from '../support/cli.js';
import { testLogger, testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const ROLE = 'ask_shard';

/** `autopoll ask` against a real `autopoll up` with the stub answerer, on a real bridge file. */
describe('autopoll ask', () => {
  let bridge: BridgeFixture;
  let up: AutopollProcess;

  const ask = (...args: string[]) => runAutopoll(['ask', ...args, '--bridge-db', bridge.path]);
  const rows = <T>(sql: string, ...params: unknown[]) => bridge.db.prepare(sql).all(...params) as T[];

  beforeAll(async () => {
    bridge = BridgeFixture.create();
    up = new AutopollProcess([
      'up', '--answerer', 'stub', '--attempts', '1', '--backoff-ms', '0', '--role', ROLE, '--bridge-db', bridge.path,
      '--redis', inject('redisUrl'), '--prefix', testPrefix(), '--port', '0',
    ]);
    await up.waitForLog(/consumer started/);
  });

  afterAll(async () => {
    await up?.kill('SIGTERM');
    bridge?.close();
  });

  it("creates a conversation for --role, asks as side a, and prints the stub's answer", async () => {
    const { code, stdout, stderr } = await ask('what is 2+2?', '--role', ROLE, '--wait', '30');
    expect(code).toBe(0);
    const [, convId, queryId] = /created conversation (conv_[0-9a-f]{16}) .*asked (q_[0-9a-f]+)/.exec(stderr) ?? [];
    expect(convId).toBeDefined();
    expect(stdout).toBe(`Stub answer to ${queryId}.\n`);

    // The rows the bridge itself would have written for its caller.
    const [conv] = rows<Record<string, string>>('SELECT * FROM conversations WHERE id = ?', convId);
    expect(conv).toMatchObject({ session_a_role: 'autopoll-ask', session_b_role: ROLE });
    expect(conv!.session_a_token).toMatch(/^[0-9a-f]{64}$/);
    expect(stderr + stdout).not.toContain(conv!.session_a_token);
    expect(stderr + stdout).not.toContain(conv!.session_b_token);
    const audit = rows<{ session_id: string | null; action: string; details: string }>('SELECT session_id, action, details FROM audit_log WHERE conversation_id = ? ORDER BY id', convId);
    expect(audit[0]).toEqual({ session_id: null, action: 'create_conversation', details: `{"roles": ["autopoll-ask", "${ROLE}"]}` });
    expect(audit).toContainEqual({ session_id: 'a', action: 'send_message', details: expect.stringMatching(/^\{"to": "b", "message_length": \d+, "redacted": false\}$/) });
    expect(audit.at(-1)).toEqual({ session_id: 'a', action: 'get_messages', details: '{"count": 1}' });
    const messages = rows<{ from_session: string; message: string; metadata: string; read: number }>(
      'SELECT from_session, message, metadata, read FROM messages WHERE conversation_id = ? ORDER BY id', convId);
    expect(messages[0]).toEqual({
      from_session: 'a', read: 1,
      message: `{"type": "query", "query_id": "${queryId}", "question": "what is 2+2?"}`,
      metadata: '{"action_type": "question"}',
    });
    expect(messages[1]).toMatchObject({ from_session: 'b', read: 1 });
  });

  it('asks in a given conversation with its side-a token; --json prints the whole response', async () => {
    const conv = bridge.createConversation({ role: ROLE });
    const { code, stdout, stderr } = await ask('which file?', '--conversation', conv.id, '--token', conv.tokenA, '--wait', '30', '--json');
    expect(code).toBe(0);
    expect(stderr).toContain(`conversation ${conv.id} (side b role ${ROLE})`);
    const out = JSON.parse(stdout) as { conversation: Record<string, unknown>; queryId: string; response: Record<string, unknown> };
    expect(out.conversation).toEqual({ id: conv.id, created: false, roleB: ROLE, expiresAt: expect.any(String) });
    expect(out.response).toMatchObject({ type: 'response', query_id: out.queryId, answer: `Stub answer to ${out.queryId}.`, llm_type: 'stub' });
    expect(stdout + stderr).not.toContain(conv.tokenA);
    expect(stdout + stderr).not.toContain(conv.tokenB);
  });

  it('an answer another reader of side a marked read first is still printed (found through the ledger), exit 0', async () => {
    const conv = bridge.createConversation({ role: ROLE });
    let asking!: AutopollProcess;
    let readByOther!: Promise<{ id: number; body: Record<string, unknown> }>;
    let thawShard!: () => void;
    const shardThawed = new Promise<void>((r) => (thawShard = r));
    // The shard frozen until the question is on the bridge, then ask frozen until the answer has
    // landed and been marked read by the other reader (as its check_messages would): ask cannot see it unread.
    await up.frozen(async () => {
      asking = new AutopollProcess(['ask', 'read by another first?', '--conversation', conv.id, '--wait', '30', '--bridge-db', bridge.path], { AUTOPOLL_ASK_TOKEN: conv.tokenA });
      onTestFinished(async () => void (await asking.kill()));
      await waitFor('the question on the bridge', () => /asked q_[0-9a-f]+/.test(asking.stderr), { timeoutMs: 20_000, guard: [asking] });
      readByOther = asking.frozen(async () => {
        await shardThawed;
        const response = await waitFor('the answer on the bridge', () => bridge.responses(conv.id)[0], 20_000);
        bridge.db.prepare('UPDATE messages SET read = 1 WHERE id = ?').run(response.id);
        return response;
      });
    });
    thawShard();
    const response = await readByOther;
    const [, queryId] = /asked (q_[0-9a-f]+)/.exec(asking.stderr)!;
    expect(response.body).toMatchObject({ type: 'response', query_id: queryId });
    // Without the ledger's look, ask waited out its 30 s and exited 3 ("no answer").
    expect(await asking.exited).toEqual({ code: 0, signal: null });
    expect(asking.lines).toEqual([{ msg: `Stub answer to ${queryId}.` }]);
  });

  it('--json on a created conversation gives side a its token (never side b its)', async () => {
    const { code, stdout } = await ask('again?', '--role', ROLE, '--wait', '30', '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { conversation: { id: string; tokenA: string; created: boolean } };
    const [conv] = rows<{ session_a_token: string; session_b_token: string }>('SELECT session_a_token, session_b_token FROM conversations WHERE id = ?', out.conversation.id);
    expect(out.conversation).toMatchObject({ created: true, tokenA: conv!.session_a_token });
    expect(stdout).not.toContain(conv!.session_b_token);
    // The token lets the user ask again in the same conversation.
    const again = await ask('and now?', '--conversation', out.conversation.id, '--token', out.conversation.tokenA, '--wait', '30');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Stub answer to q_[0-9a-f]+\.\n$/);
  });

  it('an error response exits 1 with the error', async () => {
    const { code, stdout, stderr } = await ask('this one fails #stub-fail', '--role', ROLE, '--wait', '30');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/autopoll: the answer is an error response \(stub_failure: stub failure requested by the question \(attempt 1\)\)/);
  });

  it('nobody serving the role: exit 3 after --wait, with what to check', async () => {
    const started = Date.now();
    const { code, stderr } = await ask('hello?', '--role', 'nobody_serves_this', '--wait', '2');
    expect(code).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(stderr).toMatch(/no answer to q_[0-9a-f]+ in conversation conv_[0-9a-f]{16} within 2\.\ds/);
    expect(stderr).toContain('no producer has taken it up. Is one serving role nobody_serves_this');
    expect(stderr).toContain('Run `autopoll status`');
  });

  it("without --role or --conversation, asks in a new conversation of up's default role, haiku_shard", async () => {
    // Nothing here serves haiku_shard (up serves ask_shard): the question waits, unanswered.
    const { code, stderr } = await ask('who serves the default?', '--wait', '1');
    expect(code).toBe(3);
    const [, convId] = /created conversation (conv_[0-9a-f]{16})/.exec(stderr) ?? [];
    expect(rows('SELECT session_b_role FROM conversations WHERE id = ?', convId)).toEqual([{ session_b_role: 'haiku_shard' }]);
    expect(stderr).toContain('Is one serving role haiku_shard');
  });

  it('refuses a wrong or malformed token and an unknown conversation: exit 2', async () => {
    const conv = bridge.createConversation({ role: ROLE });
    const [wrong, sideB, malformed, unknown] = await Promise.all([
      ask('hi', '--conversation', conv.id, '--token', randomBytes(32).toString('hex')),
      ask('hi', '--conversation', conv.id, '--token', conv.tokenB),
      ask('hi', '--conversation', conv.id, '--token', 'abc'),
      ask('hi', '--conversation', 'conv_0000000000000000', '--token', conv.tokenA),
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`--token (env AUTOPOLL_ASK_TOKEN) refused: it is not the side-a token of conversation ${conv.id}`);
    expect(sideB.code).toBe(2);
    expect(sideB.stderr).not.toContain(conv.tokenB);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--token (env AUTOPOLL_ASK_TOKEN): expected the 64 lowercase hex digits of a side-a token');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('conversation conv_0000000000000000 does not exist in this bridge file');
    // Nothing was sent by any of them.
    expect(rows('SELECT 1 FROM messages WHERE conversation_id = ?', conv.id)).toEqual([]);
  });

  it('a missing bridge file: exit 2, and no file is created', async () => {
    const missing = join(tempDir(), 'none.db');
    const { code, stderr } = await runAutopoll(['ask', 'hi', '--role', ROLE, '--bridge-db', missing]);
    expect(code).toBe(2);
    expect(stderr).toContain(`bridge file ${missing} does not exist`);
    expect(existsSync(missing)).toBe(false);
  });

  it('the answer is read when the producer commits it, not on the fallback poll', async () => {
    // A poll of a minute and a wait of ten: before the test's own limit, only watching the file can see the answer.
    const outcome = await askQuestion({
      bridgeDb: bridge.path, question: 'watched?', target: { role: ROLE }, waitMs: 600_000, pollMs: 60_000, logger: testLogger(),
    });
    expect(outcome.response).toMatchObject({ type: 'response', query_id: outcome.sent.queryId, answer: `Stub answer to ${outcome.sent.queryId}.` });
  }, 45_000);

  describe('the bridge file replaced or deleted while ask waits', () => {
    /** An ask nobody answers, on a bridge file of its own, once its question is on the bridge. */
    async function waiting(): Promise<{ own: BridgeFixture; asking: AutopollProcess }> {
      const own = BridgeFixture.create();
      onTestFinished(() => own.close());
      const asking = new AutopollProcess(['ask', 'still there?', '--role', 'nobody_serves_this', '--wait', '600', '--bridge-db', own.path]);
      onTestFinished(async () => void (await asking.kill()));
      await waitFor('the question on the bridge', () => /asked q_[0-9a-f]+/.test(asking.stderr), { timeoutMs: 20_000, guard: [asking] });
      return { own, asking };
    }

    it('replaced: the wait ends at once with exit 2, saying why', async () => {
      const { own, asking } = await waiting();
      // Another file moved into its place in one step, as a restore would.
      copyFileSync(own.path, `${own.path}.new`);
      renameSync(`${own.path}.new`, own.path);
      expect(await asking.exited).toEqual({ code: 2, signal: null });
      expect(asking.stderr).toMatch(/autopoll: the bridge file can no longer be used \(the bridge file .* was replaced by another file .*\); q_[0-9a-f]{12} was asked in conversation conv_[0-9a-f]{16} before: once the file is back, find it with `autopoll trace q_[0-9a-f]{12}` before asking again\n$/);
    });

    it('deleted: likewise', async () => {
      const { own, asking } = await waiting();
      unlinkSync(own.path);
      expect(await asking.exited).toEqual({ code: 2, signal: null });
      expect(asking.stderr).toMatch(/autopoll: the bridge file can no longer be used \(the bridge file .* was deleted \(or moved away\) while it was open\); q_[0-9a-f]{12} was asked in conversation conv_[0-9a-f]{16} before: once the file is back, find it with `autopoll trace q_[0-9a-f]{12}` before asking again\n$/);
    });
  });

  it('SIGINT or SIGTERM while ask waits ends it by that signal, as before ask watched the file', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const asking = new AutopollProcess(['ask', `stopped by ${signal}`, '--role', 'nobody_serves_this', '--wait', '600', '--bridge-db', bridge.path]);
      onTestFinished(async () => void (await asking.kill()));
      await waitFor('the question on the bridge', () => /asked q_[0-9a-f]+/.test(asking.stderr), { timeoutMs: 20_000, guard: [asking] });
      expect(await asking.kill(signal)).toEqual({ code: null, signal });
    }
  });
});
