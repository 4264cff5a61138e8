import { describe, expect, it } from 'vitest';
import type { AskOutcome, AskSent } from '../../src/ops/ask/askQuestion.js';
import { askOutput, sentLine, verdictOf } from '../../src/ops/ask/formatAsk.js';

const TOKEN_A = 'a'.repeat(64);
const SENT: AskSent = {
  conversationId: 'conv_0123456789abcdef', tokenA: TOKEN_A, created: true, roleB: 'haiku_shard',
  expiresAt: '2026-11-22T04:58:36.769836', queryId: 'q_1', messageId: 9, redacted: false,
};
const outcome = (response: Record<string, unknown> | null, over: Partial<AskOutcome> = {}): AskOutcome => ({ sent: SENT, response, waitedSeconds: 1.5, sideB: null, ...over });
const ANSWER = { type: 'response', query_id: 'q_1', answer: 'Four.', sources: [] };
const ERROR = { type: 'response', query_id: 'q_1', error: { kind: 'timeout', message: 'turn took too long' }, answer: 'autopoll could not answer this query (timeout): turn took too long' };

describe('ask output', () => {
  it('an answer: the text alone on stdout, exit 0', () => {
    expect(askOutput(outcome(ANSWER), false)).toEqual({ stdout: 'Four.\n', stderr: '', exitCode: 0 });
  });

  it("an error response: its kind and message on stderr, exit 1 (an old shard's error text counts as an answer)", () => {
    expect(askOutput(outcome(ERROR), false)).toEqual({ stdout: '', stderr: 'autopoll: the answer is an error response (timeout: turn took too long)\n', exitCode: 1 });
    expect(verdictOf(outcome({ type: 'response', answer: 'Timeout spawning Haiku via Task tool' }))).toEqual({ kind: 'answered', answer: 'Timeout spawning Haiku via Task tool' });
    expect(verdictOf(outcome({ type: 'response', answer: 42 }))).toMatchObject({ kind: 'error' });
  });

  it('--json: the whole body, and side a its token only for a conversation ask created', () => {
    const created = JSON.parse(askOutput(outcome(ANSWER), true).stdout) as Record<string, unknown>;
    expect(created).toEqual({
      conversation: { id: SENT.conversationId, created: true, tokenA: TOKEN_A, roleB: 'haiku_shard', expiresAt: SENT.expiresAt },
      queryId: 'q_1', messageId: 9, response: ANSWER, waitedSeconds: 1.5,
    });
    const given = askOutput({ ...outcome(ANSWER), sent: { ...SENT, tokenA: undefined, created: false } }, true);
    expect(given.stdout).not.toContain(TOKEN_A);
    expect(askOutput(outcome(ERROR), true).exitCode).toBe(1);
  });

  it('a timeout: exit 3 and what to check, depending on whether side b ever beat', () => {
    const none = askOutput(outcome(null, { waitedSeconds: 2.01 }), false);
    expect(none.exitCode).toBe(3);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('autopoll: no answer to q_1 in conversation conv_0123456789abcdef within 2.0s. Side b has no heartbeat in this conversation: no producer has taken it up. Is one serving role haiku_shard (--role haiku_shard) on this bridge file? Run `autopoll status`');
    const taken = askOutput(outcome(null, { sideB: { status: 'working', lastHeartbeat: '2026-11-22T02:00:00.000001' } }), false);
    expect(taken.stderr).toContain("Side b's last heartbeat in this conversation was 2026-11-22T02:00:00.000001 UTC (working): a producer took it up; are consumers running and answering?");
    expect(JSON.parse(askOutput(outcome(null), true).stdout)).toMatchObject({ response: null });
  });

  it('the sent line names the conversation, and warns when the redaction changed the question', () => {
    expect(sentLine(SENT, 120)).toBe('created conversation conv_0123456789abcdef (side b role haiku_shard, expires 2026-11-22T04:58:36.769836 UTC): asked q_1, waiting up to 2m00s for the answer\n');
    expect(sentLine({ ...SENT, created: false, redacted: true }, 5)).toBe(
      "conversation conv_0123456789abcdef (side b role haiku_shard): asked q_1, waiting up to 5.0s for the answer\nwarning: the bridge's redaction changed the question (it looked like a secret), as the bridge itself would\n",
    );
  });
});
