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
