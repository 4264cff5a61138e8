import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { BridgeFixture, type Conversation } from '../support/bridge.js';
import type { AutopollProcess } from '../support/cli.js';
import { McpSession } from '../support/mcpClient.js';
import { testPrefix } from '../support/pipeline.js';
import { startStubShard } from '../support/stubShard.js';
import { waitFor } from '../support/wait.js';

const ROLE = 'shared_conv_shard';
/** The stub's time per answer: longer than the 1 s wait that is to run out. */
const LATENCY_MS = 2500;

interface Row {
  id: number;
  queryId: string;
  question: string | undefined;
  read: number;
}

/**
 * Two `autopoll mcp` servers given the same --conversation and side-a token (two Claude sessions
 * configured alike), asking at once against a real `autopoll up` (producer, stub consumer): each
 * call reads only its own query's response, so neither server takes or loses the other's answers.
 */
describe('two autopoll mcp servers asking in one conversation', () => {
  let bridge: BridgeFixture;
  let up: AutopollProcess;
  let prefix: string;

  beforeAll(async () => {
    bridge = BridgeFixture.create();
    prefix = testPrefix();
    up = await startStubShard({ role: ROLE, bridgePath: bridge.path, prefix, latencyMs: LATENCY_MS });
  });

  afterAll(async () => {
    await up?.kill('SIGTERM');
    bridge?.close();
  });

  /** A conversation of the role that the shard has taken up (it beats for it), and two servers asking in it. */
  async function twoServers(): Promise<{ conv: Conversation; one: McpSession; two: McpSession }> {
    const conv = bridge.createConversation({ role: ROLE });
    await waitFor('the shard to take up the conversation', () => bridge.client.sessionStatus(conv.id, 'b'), 15_000);
    const start = async () => {
      const s = await McpSession.start(
        ['--bridge-db', bridge.path, '--conversation', conv.id, '--redis', inject('redisUrl'), '--prefix', prefix, '--progress-interval', '1'],
        { AUTOPOLL_MCP_TOKEN: conv.tokenA },
      );
      onTestFinished(() => s.close());
      return s;
    };
    const [one, two] = await Promise.all([start(), start()]);
    return { conv, one, two };
  }

  /** The conversation's messages from a side, oldest first: the query id each carries, and whether it was read. */
  const messages = (conversationId: string, from: 'a' | 'b'): Row[] =>
    (bridge.db.prepare('SELECT id, message, read FROM messages WHERE conversation_id = ? AND from_session = ? ORDER BY id').all(conversationId, from) as Array<{ id: number; message: string; read: number }>)
      .map((r) => {
        const body = JSON.parse(r.message) as { query_id: string; question?: string };
        return { id: r.id, queryId: body.query_id, question: body.question, read: r.read };
      });

  /** Exactly one response per query, each marked read once by side a with the audit row the bridge's get_messages writes. */
  function expectEachAnswerReadOnce(conversationId: string, queryIds: string[]): void {
    const responses = messages(conversationId, 'b');
    expect(responses.map((r) => r.queryId).sort()).toEqual([...queryIds].sort());
    expect(responses.filter((r) => r.read !== 1)).toEqual([]);
    const fetches = bridge.db.prepare("SELECT details FROM audit_log WHERE conversation_id = ? AND session_id = 'a' AND action = 'get_messages'").all(conversationId);
    expect(fetches).toEqual(queryIds.map(() => ({ details: '{"count": 1}' })));
  }

  /** The query ids whose answers a server read, from its log. */
  const readBy = (s: McpSession) => s.logLines().filter((l) => l.msg === 'answer read').map((l) => l.queryId as string);
  /** What a server read, once its log says as much as `count` reads: stderr is another pipe, and may come after the call's result. */
  const readByOnce = async (s: McpSession, count: number) => {
    await waitFor('the server\'s log of its reads', () => readBy(s).length >= count);
    return readBy(s).sort();
  };

  it('5 asks from each server, all 10 waiting at once: every call gets its own answer, each read once, none taken by the other server', async () => {
    const { conv, one, two } = await twoServers();
    const questions = (name: string) => Array.from({ length: 5 }, (_, i) => `${name} asks question ${i}`);
    const asks = (s: McpSession, name: string) => Promise.all(questions(name).map((question) => s.call('ask', { question, wait_seconds: 60 })));
    // Frozen until all ten are on the bridge: all ten wait at once, whatever the machine's pace.
    const calls = await up.frozen(async () => {
      const both = Promise.all([asks(one, 'one'), asks(two, 'two')]);
      await waitFor('all ten questions on the bridge', () => messages(conv.id, 'a').length === 10, 15_000);
      // Wrapped: returned bare, the calls would be awaited with the shard still frozen.
      return { both };
    });
    const [fromOne, fromTwo] = await calls.both;
    const asked = new Map(messages(conv.id, 'a').map((q) => [q.queryId, q.question]));
    for (const [name, results] of [['one', fromOne], ['two', fromTwo]] as const) {
      results.forEach((r, i) => {
        const queryId = r.structured.queryId as string;
        expect(r.structured).toMatchObject({ status: 'answered', answer: `Stub answer to ${queryId}.`, conversationId: conv.id });
        // The answer is to the question this call asked.
        expect(asked.get(queryId)).toBe(questions(name)[i]);
      });
    }
    const idsOf = (results: typeof fromOne) => results.map((r) => r.structured.queryId as string);
    const all = [...idsOf(fromOne), ...idsOf(fromTwo)];
    expect(new Set(all).size).toBe(10);
    expectEachAnswerReadOnce(conv.id, all);
    expect(await readByOnce(one, 5)).toEqual(idsOf(fromOne).sort());
    expect(await readByOnce(two, 5)).toEqual(idsOf(fromTwo).sort());
  });

  it('get_answer on the other server: refused as unknown until the shard takes the question, then found through the shared conversation; both read the one answer', async () => {
    const { conv, one, two } = await twoServers();
    const { asked, before } = await up.frozen(async () => {
      const asked = await one.call('ask', { question: 'asked by one, fetched by two', wait_seconds: 0 });
      // Untaken, it has no ledger row: nothing but the server that asked it knows it is an autopoll question.
      const before = await two.call('get_answer', { query_id: asked.structured.queryId, wait_seconds: 0 });
      return { asked, before };
    });
    const queryId = asked.structured.queryId as string;
    expect(asked.structured).toMatchObject({ status: 'waiting', conversationId: conv.id });
    expect(before).toMatchObject({ isError: true, text: expect.stringContaining(`query ${queryId} was not asked through autopoll mcp in conversation ${conv.id}, or no shard has taken it yet`) });

    await waitFor('the shard to take the question', () => bridge.ledger(asked.structured.messageId as number), 15_000);
    // Both wait for the answer at once: one of them marks it read, the other still reads it.
    const results = await Promise.all([two, one].map((s) => s.call('get_answer', { query_id: queryId, wait_seconds: 60 })));
    for (const r of results) {
      expect(r.structured).toMatchObject({ queryId, status: 'answered', answer: `Stub answer to ${queryId}.`, conversationId: conv.id, messageId: asked.structured.messageId });
    }
    expectEachAnswerReadOnce(conv.id, [queryId]);
    // Asked again, each gives it from memory.
    const again = await Promise.all([two, one].map((s) => s.call('get_answer', { query_id: queryId, wait_seconds: 0 })));
    for (const r of again) expect(r.structured).toMatchObject({ status: 'answered', answer: `Stub answer to ${queryId}.` });
    expectEachAnswerReadOnce(conv.id, [queryId]);
  });

  it("one server's ask outlasts its wait while the other asks and reads its own answers: the late answer is left unread for get_answer", async () => {
    const { conv, one, two } = await twoServers();
    const [early, ...meanwhile] = await Promise.all([
      one.call('ask', { question: 'one: slower than my wait', wait_seconds: 1 }),
      ...[0, 1].map((i) => two.call('ask', { question: `two asks meanwhile ${i}`, wait_seconds: 60 })),
    ]);
    const queryId = early.structured.queryId as string;
    expect(early.structured).toMatchObject({ queryId, status: expect.stringMatching(/^(waiting|being_answered)$/) });
    // Its answer lands unread; then the other server asks again and reads the conversation's responses after it.
    await waitFor('the late answer on the bridge', () => messages(conv.id, 'b').some((r) => r.queryId === queryId), 15_000);
    const after = await two.call('ask', { question: 'two asks once the late answer is there', wait_seconds: 60 });
    for (const r of [...meanwhile, after]) expect(r.structured).toMatchObject({ status: 'answered', answer: `Stub answer to ${r.structured.queryId as string}.` });
    expect(messages(conv.id, 'b').find((r) => r.queryId === queryId)).toMatchObject({ read: 0 });
    expect(readBy(two)).not.toContain(queryId);

    const late = await one.call('get_answer', { query_id: queryId, wait_seconds: 30 });
    expect(late.structured).toMatchObject({ queryId, status: 'answered', answer: `Stub answer to ${queryId}.`, conversationId: conv.id });
    expectEachAnswerReadOnce(conv.id, [queryId, ...[...meanwhile, after].map((r) => r.structured.queryId as string)]);
    expect(await readByOnce(one, 1)).toEqual([queryId]);
    expect(await readByOnce(two, 3)).not.toContain(queryId);
  });
});
