import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS } from '../../src/bridge/limits.js';
import { answerResponseBody, failureLine, rejectionResponseBody, SHARD_ID } from '../../src/bridge/responseBody.js';
import { AnswerJobSchema, type AnswerJob } from '../../src/shared/jobs.js';
import { knownSecrets } from '../../src/shared/knownSecrets.js';
import { pyJsonDumps } from '../../src/bridge/pyjson.js';
import { redactValues } from '../../src/shared/redact.js';

const baseJob = {
  messageId: 12,
  conversationId: 'conv_1',
  queryId: 'q_12345',
  questionJobId: 'conv_1:12',
  llmType: 'stub',
  attempts: 2,
};

describe('answerResponseBody', () => {
  it('puts the fields askers read first, then timing and model details', () => {
    const job: AnswerJob = AnswerJobSchema.parse({
      ...baseJob,
      outcome: { kind: 'answer', answer: 'The answer is 42 (SESSION-RESUME.md:82-86)', sources: ['SESSION-RESUME.md:82-86'], model: 'haiku', sessionId: 's1', usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.25 } },
    });
    const body = answerResponseBody(job, 19.2).body;
    expect(body).toEqual({
      type: 'response',
      query_id: 'q_12345',
      answer: 'The answer is 42 (SESSION-RESUME.md:82-86)',
      sources: ['SESSION-RESUME.md:82-86'],
      shard_id: SHARD_ID,
      llm_type: 'stub',
      response_time_sec: 19.2,
      attempts: 2,
      model: 'haiku',
      session_id: 's1',
      usage: { input_tokens: 10, output_tokens: 5, cost_usd: 0.25 },
    });
    expect(Object.keys(body).slice(0, 4)).toEqual(['type', 'query_id', 'answer', 'sources']);
    expect(body).not.toHaveProperty('error');
  });

  it('leaves out what the answerer did not report when serialised', () => {
    const job: AnswerJob = { ...baseJob, outcome: { kind: 'answer', answer: 'A', sources: [] } };
    const text = pyJsonDumps(answerResponseBody(job, 0.5).body);
    expect(text).toBe(
      `{"type": "response", "query_id": "q_12345", "answer": "A", "sources": [], "shard_id": "${SHARD_ID}", "llm_type": "stub", "response_time_sec": 0.5, "attempts": 2}`,
    );
  });

  it('turns an error outcome into an error response with a readable answer line', () => {
    const job: AnswerJob = { ...baseJob, attempts: 5, outcome: { kind: 'error', errorKind: 'timeout', message: 'no answer\n  within 60 s' } };
    const body = answerResponseBody(job, 61).body;
    expect(body).toMatchObject({
      type: 'response',
      query_id: 'q_12345',
      error: { kind: 'timeout', message: 'no answer\n  within 60 s' },
      answer: 'autopoll could not answer this query (timeout): no answer within 60 s',
      sources: [],
      shard_id: SHARD_ID,
      llm_type: 'stub',
      response_time_sec: 61,
      attempts: 5,
    });
    expect(body).not.toHaveProperty('model');
  });
});

describe('rejectionResponseBody', () => {
  it('answers a refused query with an error and empty sources', () => {
    expect(rejectionResponseBody('q_9', '"question" is empty').body).toEqual({
      type: 'response',
      query_id: 'q_9',
      error: { kind: 'rejected', message: '"question" is empty' },
      answer: 'autopoll could not answer this query (rejected): "question" is empty',
      sources: [],
      shard_id: SHARD_ID,
    });
  });
});

describe('failureLine', () => {
  it('collapses whitespace to one line and caps the message at 300 characters', () => {
    expect(failureLine('internal', '  a\n\tb   c  ')).toBe('autopoll could not answer this query (internal): a b c');
    const line = failureLine('internal', 'x'.repeat(1000));
    expect(line).toBe(`autopoll could not answer this query (internal): ${'x'.repeat(300)}`);
    expect(line).not.toContain('\n');
  });

  it('redacts before it cuts: a known token across the 300th character leaves no part of itself', () => {
    const token = 'Zq8Xw3Vb9Lm2Rt6YpK4n';
    knownSecrets.add('conversation-token', token);
    try {
      for (let at = 285; at < 300; at++) {
        const line = failureLine('internal', `${'x'.repeat(at)}${token} and more`);
        expect(line).not.toContain(token.slice(0, 4));
      }
    } finally {
      knownSecrets.clear();
    }
  });
});

describe('an answer longer than a bridge message holds', () => {
  const job = (answer: string): AnswerJob =>
    AnswerJobSchema.parse({ ...baseJob, outcome: { kind: 'answer', answer, sources: [], model: 'haiku', sessionId: 's1' } });

  it.each([
    ['ASCII', 'a'.repeat(60_000)],
    ['escaped by Python JSON (6 characters each)', 'é'.repeat(20_000)],
    ['surrogate pairs (12 characters each)', '😀'.repeat(9_000)],
    ['quotes and newlines', '"\n'.repeat(30_000)],
  ])('%s: cut to the longest prefix that fits, with a note; never half a pair', (_what, answer) => {
    const body = answerResponseBody(job(answer), 1).body as { answer: string };
    const message = pyJsonDumps(body);
    expect(message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    // The longest that fits: one more of the repeated unit would not.
    expect(message.length).toBeGreaterThan(MAX_MESSAGE_CHARS - 13);
    const [, kept, cutAt, of] = /^([\s\S]*)\n\n\[autopoll cut this answer after (\d+) of its (\d+) characters: bridge messages hold at most 50000 characters\]$/.exec(body.answer)!;
    expect(answer.startsWith(kept!)).toBe(true);
    expect(kept!.length).toBe(Number(cutAt));
    expect(Number(of)).toBe(answer.length);
    expect(body.answer).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/); // no lone surrogate
  });

  describe('with secrets in it: redacted first, then cut', () => {
    const token = 'Zq8Xw3Vb9Lm2Rt6YpK4n';
    afterEach(() => knownSecrets.clear());
    /** Where a 60,000-character ASCII answer is cut. */
    const cutAt = Number(/after (\d+) of/.exec(answerResponseBody(job('a'.repeat(60_000)), 1).body.answer as string)![1]);

    it('a known token across the cut leaves no part of itself', () => {
      knownSecrets.add('conversation-token', token);
      for (let start = cutAt - token.length + 1; start < cutAt; start++) {
        const answer = `${'a'.repeat(start)}${token}${'a'.repeat(60_000 - start - token.length)}`;
        const { body, redacted } = answerResponseBody(job(answer), 1);
        expect((body as { answer: string }).answer).not.toContain(token.slice(0, 4));
        expect(redacted).toBe(true);
      }
    });

    it.each([
      ['password: x ', 'password: x '.repeat(5_000)],
      ['api_key=k and secret:s', 'api_key=k and secret:s\n'.repeat(3_000)],
      ['a known token, shorter than its replacement', `${token} `.repeat(3_000)],
      ['"password" at the cut, completed by the note', `${'a'.repeat(cutAt - 8)}password${'b'.repeat(60_000 - cutAt)}`],
    ])('%s: the row stays within the limit, and redacting it again changes nothing', (_what, answer) => {
      knownSecrets.add('conversation-token', token);
      const { body } = answerResponseBody(job(answer), 1);
      expect(pyJsonDumps(body).length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      expect(redactValues(body)).toEqual({ value: body, redacted: false });
    });
  });

  it('an answer that fits is left as it is', () => {
    const answer = 'b'.repeat(49_000);
    expect(answerResponseBody(job(answer), 1).body.answer).toBe(answer);
  });
});
