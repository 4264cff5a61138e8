import { describe, expect, it } from 'vitest';
import { AnswerError } from '../../src/consumer/Answerer.js';
import { backoffDelayMs, classifyFailure } from '../../src/consumer/retryPolicy.js';

describe('backoffDelayMs', () => {
  it('doubles from the base on each attempt', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelayMs(1000, a))).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect([1, 2, 3].map((a) => backoffDelayMs(250, a))).toEqual([250, 500, 1000]);
  });

  it('treats attempt 0 or below as the first', () => {
    expect(backoffDelayMs(1000, 0)).toBe(1000);
    expect(backoffDelayMs(1000, -3)).toBe(1000);
  });

  it('caps at ten minutes', () => {
    expect(backoffDelayMs(1000, 10)).toBe(512_000);
    expect(backoffDelayMs(1000, 11)).toBe(600_000);
    expect(backoffDelayMs(1000, 100)).toBe(600_000);
    expect(backoffDelayMs(1000, 5000)).toBe(600_000); // 2 ** 4999 is Infinity; still capped
    expect(backoffDelayMs(700_000, 1)).toBe(600_000);
  });

  it('stays 0 with a zero base', () => {
    expect(backoffDelayMs(0, 1)).toBe(0);
    expect(backoffDelayMs(0, 30)).toBe(0);
  });
});

describe('classifyFailure', () => {
  it('keeps the kind and retryable flag of an AnswerError', () => {
    expect(classifyFailure(new AnswerError('timeout', 'took too long', true))).toEqual({ kind: 'timeout', message: 'took too long', retryable: true });
    expect(classifyFailure(new AnswerError('refused', 'bad question', false))).toEqual({ kind: 'refused', message: 'bad question', retryable: false });
  });

  it('calls other errors internal and retryable', () => {
    expect(classifyFailure(new TypeError('boom'))).toEqual({ kind: 'internal', message: 'boom', retryable: true });
    expect(classifyFailure('a string')).toEqual({ kind: 'internal', message: 'a string', retryable: true });
    expect(classifyFailure(undefined)).toEqual({ kind: 'internal', message: 'undefined', retryable: true });
  });
});

describe('attemptsSpent', () => {
  it('counts every start except the rate-limit hand-backs, at least 1', async () => {
    const { attemptsSpent } = await import('../../src/consumer/retryPolicy.js');
    expect(attemptsSpent({ attemptsStarted: 3, data: {} })).toBe(3);
    expect(attemptsSpent({ attemptsStarted: 5, data: { deferrals: 3 } })).toBe(2);
    expect(attemptsSpent({ attemptsStarted: 0, data: null })).toBe(1);
    expect(attemptsSpent({ attemptsStarted: 4, data: { deferrals: 'x' } })).toBe(4);
  });
});

describe('runOf (replay rounds)', () => {
  it('counts attempts within the round, after the starts of earlier rounds', async () => {
    const { attemptsSpent, runOf } = await import('../../src/consumer/retryPolicy.js');
    expect(attemptsSpent({ attemptsStarted: 7, data: { priorAttempts: 5, deferrals: 1 } })).toBe(1);
    expect(runOf({ attemptsStarted: 2, data: {} }, 3)).toEqual({ attempt: 2, replay: false, round: 0 });
    expect(runOf({ attemptsStarted: 6, data: { replay: true, priorAttempts: 5 } }, 3)).toEqual({ attempt: 1, replay: true, round: 5 });
  });

  it('a job retried past its budget without marks (BullMQ failed it for stalling) opens a replay round', async () => {
    const { runOf } = await import('../../src/consumer/retryPolicy.js');
    expect(runOf({ attemptsStarted: 4, data: {} }, 3)).toEqual({
      attempt: 1,
      replay: true,
      round: 3,
      opens: { replay: true, priorAttempts: 3, deferrals: 0 },
    });
    // Once those marks are saved, the next try of the same round is attempt 2, not another new round.
    expect(runOf({ attemptsStarted: 5, data: { replay: true, priorAttempts: 3, deferrals: 0 } }, 3)).toEqual({ attempt: 2, replay: true, round: 3 });
  });

  it('closingMarks make the next start attempt 1 of a replay round', async () => {
    const { closingMarks, runOf } = await import('../../src/consumer/retryPolicy.js');
    const before = { deferrals: 4 };
    const data = { ...before, ...closingMarks({ attemptsStarted: 2 }) };
    expect(data.deferrals).toBe(0);
    expect(runOf({ attemptsStarted: 3, data }, 5)).toEqual({ attempt: 1, replay: true, round: 2 });
  });
});
