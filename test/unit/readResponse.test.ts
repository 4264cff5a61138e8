import { describe, expect, it } from 'vitest';
import { readResponse } from '../../src/bridge/readResponse.js';
import type { AskOutcome } from '../../src/ops/ask/askQuestion.js';
import { verdictOf } from '../../src/ops/ask/formatAsk.js';
import { stateOfResponse } from '../../src/ops/mcp/questionState.js';

const asked = (response: Record<string, unknown>): AskOutcome => ({
  sent: { conversationId: 'conv_0123456789abcdef', created: false, roleB: 'haiku_shard', expiresAt: '2026-11-22T04:58:36.769836', queryId: 'q_1', messageId: 9, redacted: false },
  response, waitedSeconds: 1, sideB: null,
});
const NO_ANSWER_TEXT = 'the response has no answer text (not a response as PROTOCOL.md describes it)';

/** One reader of a response body under `autopoll ask` (verdictOf) and `autopoll mcp` (stateOfResponse). */
describe('reading a response body', () => {
  it('an answer with its sources, model and time; what the shard wrote wrong falls back field by field', () => {
    const body = { type: 'response', query_id: 'q_1', answer: 'Four.', sources: ['a.md'], model: 'haiku', response_time_sec: 1.5 };
    expect(readResponse(body)).toEqual({ answer: 'Four.', sources: ['a.md'], model: 'haiku', responseTimeSec: 1.5, error: undefined });
    expect(readResponse({ answer: 'Four.', sources: 'a.md', model: 7, response_time_sec: 'slow' })).toEqual({ answer: 'Four.', sources: [], model: null, responseTimeSec: null, error: undefined });
    expect(verdictOf(asked(body))).toEqual({ kind: 'answered', answer: 'Four.' });
    expect(stateOfResponse(body)).toEqual({ status: 'answered', answer: 'Four.', sources: ['a.md'], model: 'haiku', responseTimeSec: 1.5 });
  });

  it("autopoll's error response: ask prints kind and reason, mcp reports it failed", () => {
    const body = { answer: 'autopoll could not answer this query (timeout): too long', error: { kind: 'timeout', message: 'too long' } };
    expect(verdictOf(asked(body))).toEqual({ kind: 'error', error: 'timeout: too long' });
    expect(stateOfResponse(body)).toEqual({ status: 'failed', reason: 'too long', errorKind: 'timeout' });
  });

  it('no answer text: an error to ask (even with an error object), an empty answer to mcp', () => {
    for (const body of [{ type: 'response' }, { answer: 42 }]) {
      expect(readResponse(body).answer).toBeUndefined();
      expect(verdictOf(asked(body))).toEqual({ kind: 'error', error: NO_ANSWER_TEXT });
      expect(stateOfResponse(body)).toMatchObject({ status: 'answered', answer: '' });
    }
    const errorOnly = { error: { kind: 'rejected', message: 'no' } };
    expect(verdictOf(asked(errorOnly))).toEqual({ kind: 'error', error: NO_ANSWER_TEXT });
    expect(stateOfResponse(errorOnly)).toEqual({ status: 'failed', reason: 'no', errorKind: 'rejected' });
  });

  it('an error field that is not autopoll\'s error object is no error: both read the answer', () => {
    const body = { answer: 'Four.', error: 'something else' };
    expect(readResponse(body).error).toBeUndefined();
    expect(verdictOf(asked(body))).toEqual({ kind: 'answered', answer: 'Four.' });
    expect(stateOfResponse(body)).toMatchObject({ status: 'answered', answer: 'Four.' });
  });
});
