import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Conversation } from '../support/bridge.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { claudeChildren } from '../support/claudeProcesses.js';
import type { AutopollProcess } from '../support/cli.js';
import { FakeAnthropic, type RecordedRequest, type Reply } from '../support/fakeAnthropic.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

/**
 * Isolation whatever happened to a turn, from outside: the built producer and consumer, the real
 * Claude Code binary, the fake API. Question X carries a canary; its first try fails (the API
 * overloaded, a reply that never comes, an error result, the session process killed), its retry
 * is answered, and later questions of its conversation and of another one are too. No API request
 * of another question may carry the canary, and X's retry carries it once: the failed try is gone.
 */

const canaryCount = (r: RecordedRequest, canary: string) => r.text.split(canary).length - 1;
const queryIdOf = (r: RecordedRequest) => /query_id="([^"]+)"/.exec(r.lastUser)?.[1];

type Failure = 'overloaded' | 'hang' | 'error_result' | 'killed';
const FAILURES: Failure[] = ['overloaded', 'hang', 'error_result', 'killed'];
const FAILED_REPLY: Record<Failure, Reply> = {
  overloaded: { kind: 'error', status: 529 },
  hang: { kind: 'hang' },
  error_result: { kind: 'error', status: 400, type: 'invalid_request_error', message: 'refused' },
  // Held until the test kills the session mid-turn.
  killed: { kind: 'hang' },
};
/** Answers without repeating the question: a later request carries the canary only if a question carrying it is in its context. */
const PLAIN: Reply = { kind: 'text', text: 'Fake answer (notes.md:1)' };

describe.each(['none', 'conversation'] as const)('Claude Code isolation after a failed turn, --session-memory %s', (memory) => {
  let api: FakeAnthropic;
  let pipeline: SpawnedPipeline;
  let other: Conversation;
  let consumer: AutopollProcess;
  let failing: { canary: string; reply: Reply; failed: boolean } | undefined;

  beforeAll(async () => {
    api = await new FakeAnthropic().start();
    api.responder = (req) => {
      if (failing && !failing.failed && req.lastUser.includes(failing.canary)) {
        failing.failed = true;
        return failing.reply;
      }
      return PLAIN;
    };
    pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
    other = pipeline.bridge.createConversation();
    const producer = pipeline.producer(['--conversation', `${other.id}:${other.tokenB}`]);
    // One session: every later question goes to the slot whose turn failed.
    consumer = pipeline.consumer(
      ['--answerer', 'claude', '--sessions', '1', '--attempts', '3', '--backoff-ms', '200', '--turn-timeout', '3', '--session-memory', memory],
      claudeEnv(api.url),
    );
    await producer.waitForLog(/^producer started$/, 60_000);
    await consumer.waitForLog(/^consumer started$/, 60_000);
  }, 90_000);
  afterAll(async () => {
    await pipeline?.stop();
    await api?.stop();
  });

  it.each(FAILURES)('%s: no later question, of its conversation or another, carries the failed one', async (failure) => {
    const { bridge, conv } = pipeline;
    const canary = `CANARY-${failure}-${memory}`;
    const first = api.messageRequests.length;
    failing = { canary, reply: FAILED_REPLY[failure], failed: false };
    const x = `x_${failure}`;
    const later = { same: `y_${failure}`, other: `z_${failure}` };
    bridge.ask(conv.id, x, `Remember the word ${canary}. What is it?`);
    await waitFor('the failing try at the API', () => failing!.failed, 30_000);
    if (failure === 'killed') for (const pid of claudeChildren(consumer.child.pid!)) process.kill(pid, 'SIGKILL');
    bridge.ask(conv.id, later.same, 'What word did I ask you to remember?');
    bridge.ask(other.id, later.other, 'What word was the other conversation asked to remember?');
    const mine = () => [...bridge.responses(conv.id), ...bridge.responses(other.id)].filter((r) => [x, later.same, later.other].includes(String(r.body.query_id)));
    await waitFor('3 answers', () => mine().length === 3, 60_000, 50);
    for (const r of mine()) expect(r.body.error, String(r.body.query_id)).toBeUndefined();

    const requests = api.messageRequests.slice(first);
    const of = (queryId: string) => requests.filter((r) => queryIdOf(r) === queryId);
    // The failed try, and the retry on a session that never saw it: the canary once in each.
    expect(of(x).length).toBeGreaterThanOrEqual(2);
    for (const r of of(x)) expect(canaryCount(r, canary), r.text.slice(-400)).toBe(1);
    for (const r of of(later.other)) expect(canaryCount(r, canary), r.text.slice(-400)).toBe(0);
    // A follow-up of X's own conversation may see X's answered retry when the session keeps memory; never its failed try.
    for (const r of of(later.same)) expect(canaryCount(r, canary), r.text.slice(-400)).toBeLessThanOrEqual(memory === 'none' ? 0 : 1);
    expect(of(later.same).length + of(later.other).length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('a recycled session: the next session carries nothing of its questions', async () => {
    failing = undefined;
    const recycling = new SpawnedPipeline(['--redis', inject('redisUrl')]);
    try {
      const { bridge, conv } = recycling;
      const otherConv = bridge.createConversation();
      const producer = recycling.producer(['--conversation', `${otherConv.id}:${otherConv.tokenB}`]);
      const recycled = recycling.consumer(['--answerer', 'claude', '--sessions', '1', '--max-turns-per-session', '2', '--session-memory', memory], claudeEnv(api.url));
      await producer.waitForLog(/^producer started$/, 60_000);
      await recycled.waitForLog(/^consumer started$/, 60_000);
      const canary = `CANARY-recycle-${memory}`;
      const first = api.messageRequests.length;
      const answered = (n: number) => waitFor(`${n} answers`, () => bridge.responses(conv.id).length + bridge.responses(otherConv.id).length === n, 60_000, 50);
      bridge.ask(conv.id, 'r_1', `Remember the word ${canary}.`);
      await answered(1);
      bridge.ask(conv.id, 'r_2', 'And now?');
      await answered(2);
      // Two turns: the session is replaced. What follows, of either conversation, starts afresh.
      bridge.ask(conv.id, 'r_3', 'What word did I ask you to remember?');
      bridge.ask(otherConv.id, 'r_4', 'What word was the other conversation asked to remember?');
      await answered(4);
      const requests = api.messageRequests.slice(first);
      const of = (queryId: string) => requests.filter((r) => queryIdOf(r) === queryId);
      // The session's own memory, while it lasts (proof that the canary would be seen if it were there).
      for (const r of of('r_2')) expect(canaryCount(r, canary)).toBe(memory === 'none' ? 0 : 1);
      for (const id of ['r_3', 'r_4']) {
        expect(of(id).length).toBeGreaterThanOrEqual(1);
        for (const r of of(id)) expect(canaryCount(r, canary), r.text.slice(-400)).toBe(0);
      }
      expect(recycled.hasLog(/^recycling Claude Code session$/)).toBe(true);
    } finally {
      await recycling.stop();
    }
  }, 120_000);
});
