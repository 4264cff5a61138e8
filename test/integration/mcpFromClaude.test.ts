import { query, type Options, type SDKMessage, type SDKResultMessage, type SDKSystemMessage } from '@anthropic-ai/claude-agent-sdk';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { findClaudeBinary } from '../../src/doctor/claudeCheck.js';
import { BridgeFixture, tempDir } from '../support/bridge.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { alive } from '../support/claudeProcesses.js';
import { AutopollProcess, CLI } from '../support/cli.js';
import { FakeAnthropic, toolResultsOf, type Responder } from '../support/fakeAnthropic.js';
import { testPrefix } from '../support/pipeline.js';
import { startStubShard } from '../support/stubShard.js';
import { processTable } from '../support/procStat.js';
import { waitFor } from '../support/wait.js';

const ROLE = 'claude_mcp_shard';
const TOOL = 'mcp__autopoll__ask';
const QUESTION = 'what does the shard say?';

/** The pids whose command line holds every word: the MCP server Claude Code spawned, found by its bridge file. */
function processesWith(...words: string[]): number[] {
  return [...processTable().keys()].filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return words.every((w) => argv.includes(w));
    } catch {
      return false; // gone meanwhile
    }
  });
}

/**
 * The model's side of one turn: ask autopoll through the tool, then say what it answered. Any
 * other request Claude Code makes (one without the tool) gets plain text.
 */
const askThenEcho: Responder = (req) => {
  const [result] = toolResultsOf(req);
  if (result) return { kind: 'text', text: `autopoll said: ${result.text}` };
  const tools = Array.isArray(req.body.tools) ? (req.body.tools as Array<{ name?: string }>) : [];
  if (tools.some((t) => t.name === TOOL)) return { kind: 'tool_use', name: TOOL, input: { question: QUESTION } };
  return { kind: 'text', text: 'ok' };
};

/**
 * The README's promise, with the real Claude Code binary as the MCP client: a Claude session
 * given `autopoll mcp` as a stdio server calls its `ask` tool and gets the shard's answer. The
 * model is the fake Messages API on loopback; the shard a real `autopoll up` with the stub answerer.
 */
describe('autopoll mcp as Claude Code\'s MCP server', () => {
  let bridge: BridgeFixture;
  let up: AutopollProcess;
  let api: FakeAnthropic;
  let prefix: string;
  const serverArgs = () => ['mcp', '--bridge-db', bridge.path, '--role', ROLE, '--redis', inject('redisUrl'), '--prefix', prefix];

  beforeAll(async () => {
    bridge = BridgeFixture.create();
    prefix = testPrefix();
    api = await new FakeAnthropic().start();
    up = await startStubShard({ role: ROLE, bridgePath: bridge.path, prefix, latencyMs: 0 });
  });

  afterAll(async () => {
    await up?.stop();
    await api?.stop();
    bridge?.close();
  });

  /** One Claude Code turn through the Agent SDK, the MCP server's pid read while the tool's result goes back to the model. */
  async function claudeTurn(options: Options): Promise<{ messages: SDKMessage[]; serverPids: number[] }> {
    const messages: SDKMessage[] = [];
    let serverPids: number[] = [];
    api.responder = (req, index) => {
      if (toolResultsOf(req).length > 0) serverPids = processesWith(CLI, 'mcp', '--bridge-db', bridge.path);
      return askThenEcho(req, index);
    };
    const session = query({
      prompt: 'Ask autopoll what the shard says.',
      options: { env: claudeEnv(api.url), model: 'haiku', tools: [], allowedTools: [TOOL], persistSession: false, maxTurns: 3, ...options },
    });
    for await (const m of session) messages.push(m);
    return { messages, serverPids };
  }

  /** What the turn did: it saw the server's tools, called ask once, and got an answer it passed on. */
  async function expectAnsweredTurn({ messages, serverPids }: { messages: SDKMessage[]; serverPids: number[] }, requestsBefore: number, source: string): Promise<void> {
    const init = messages.find((m): m is SDKSystemMessage => m.type === 'system' && m.subtype === 'init');
    expect(init?.mcp_servers).toEqual([expect.objectContaining({ name: 'autopoll', status: 'connected', source })]);
    expect(init?.tools).toEqual(expect.arrayContaining([TOOL, 'mcp__autopoll__get_answer', 'mcp__autopoll__shard_status']));
    const result = messages.find((m): m is SDKResultMessage => m.type === 'result');
    expect(result).toMatchObject({ subtype: 'success', is_error: false });

    // What Claude Code sent back to the model: the tool's result, the stub's answer in it. (Claude
    // Code 2.1.330 sends the result's structured content as JSON, not its text content.)
    const results = api.messageRequests.slice(requestsBefore).flatMap(toolResultsOf);
    expect(results).toHaveLength(1);
    const [toolResult] = results;
    expect(toolResult!.isError).toBe(false);
    const queryId = /Stub answer to (q_[0-9a-f]{12})\./.exec(toolResult!.text)?.[1];
    expect(queryId, toolResult!.text).toBeDefined();
    expect(result && 'result' in result ? result.result : '').toContain(`Stub answer to ${queryId}.`);

    // Asked as side a of a conversation of the server's own, and answered there.
    const conv = bridge.db.prepare("SELECT c.* FROM conversations c JOIN messages m ON m.conversation_id = c.id WHERE m.message LIKE '%' || ? || '%'").get(queryId) as Record<string, string>;
    expect(conv).toMatchObject({ session_a_role: 'autopoll-mcp', session_b_role: ROLE });
    const asked = bridge.db.prepare("SELECT message FROM messages WHERE conversation_id = ? AND from_session = 'a'").all(conv.id) as Array<{ message: string }>;
    expect(asked.map((r) => JSON.parse(r.message) as Record<string, unknown>)).toEqual([{ type: 'query', query_id: queryId, question: QUESTION }]);
    expect(bridge.responses(conv.id).map((r) => r.body)).toEqual([expect.objectContaining({ query_id: queryId, answer: `Stub answer to ${queryId}.` })]);

    // The session's end stops the server it spawned.
    expect(serverPids).toHaveLength(1);
    await waitFor('the MCP server to exit', () => !alive(serverPids[0]!), 10_000);
  }

  it('given as the Agent SDK\'s mcpServers: a Claude turn calls ask and gets the answer; the server is gone when the session ends', async () => {
    const before = api.messageRequests.length;
    const turn = await claudeTurn({
      cwd: tempDir('autopoll-claude-mcp-cwd-'),
      settingSources: [],
      strictMcpConfig: true,
      mcpServers: { autopoll: { type: 'stdio', command: process.execPath, args: [CLI, ...serverArgs()] } },
    });
    await expectAnsweredTurn(turn, before, 'dynamic');
  }, 30_000);

  it('an ask whose wait ends first: the model is told the query id and to call get_answer', async () => {
    // A conversation the shard has taken up, so that it can be frozen for the turn and still count as serving.
    const conv = bridge.createConversation({ role: ROLE });
    await waitFor('the shard to take up the conversation', () => bridge.client.sessionStatus(conv.id, 'b'), 15_000);
    const args = ['mcp', '--bridge-db', bridge.path, '--conversation', conv.id, '--redis', inject('redisUrl'), '--prefix', prefix];
    const before = api.messageRequests.length;
    api.responder = (req) => {
      const [result] = toolResultsOf(req);
      if (result) return { kind: 'text', text: 'noted' };
      const tools = Array.isArray(req.body.tools) ? (req.body.tools as Array<{ name?: string }>) : [];
      if (tools.some((t) => t.name === TOOL)) return { kind: 'tool_use', name: TOOL, input: { question: QUESTION, wait_seconds: 0 } };
      return { kind: 'text', text: 'ok' };
    };
    const session = query({
      prompt: 'Ask autopoll, without waiting.',
      options: {
        env: claudeEnv(api.url), model: 'haiku', tools: [], allowedTools: [TOOL], persistSession: false, maxTurns: 3,
        cwd: tempDir('autopoll-claude-mcp-cwd-'), settingSources: [], strictMcpConfig: true,
        mcpServers: { autopoll: { type: 'stdio', command: process.execPath, args: [CLI, ...args], env: { AUTOPOLL_MCP_TOKEN: conv.tokenA } } },
      },
    });
    // The shard frozen for the turn: a stub answers in milliseconds, sooner than the ask's one look.
    await up.frozen(async () => {
      for await (const m of session) void m;
    });
    const [seen] = api.messageRequests.slice(before).flatMap(toolResultsOf);
    // What the model reads (Claude Code passes it the structured content) says what to do next.
    expect(seen!.text).toContain('Not answered yet');
    expect(seen!.text).toMatch(/call get_answer with .{0,4}query_id.{0,6}q_[0-9a-f]{12}/i);
  }, 30_000);

  it('added with the README\'s `claude mcp add`: `claude mcp list` finds it healthy, and a turn in that folder asks through it', async () => {
    const env = claudeEnv(api.url);
    const cwd = tempDir('autopoll-claude-mcp-project-');
    const claude = (...args: string[]) => execFileSync(findClaudeBinary()!, args, { cwd, env, encoding: 'utf8', timeout: 15_000 });
    // The README's line, with the built CLI in place of npx (no registry here).
    claude('mcp', 'add', 'autopoll', '--', process.execPath, CLI, ...serverArgs());
    expect(claude('mcp', 'list')).toMatch(/autopoll: .*mcp --bridge-db .* - ✔ Connected/);
    const before = api.messageRequests.length;
    const turn = await claudeTurn({ cwd, env, settingSources: ['local'] });
    await expectAnsweredTurn(turn, before, 'local');
  }, 30_000);
});
