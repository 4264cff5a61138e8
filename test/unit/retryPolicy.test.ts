import { describe, expect, it } from 'vitest';
import { AnswerError } from '../../src/consumer/Answerer.js';
import { backoffDelayMs, classifyFailure, onRateLimit, RATE_LIMIT_CAP_MS, rateLimitDelayMs } from '../../src/consumer/retryPolicy.js';

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

describe('rateLimitDelayMs', () => {
  const low = () => 0;
  const high = () => 0.999_999;

  it('doubles with each rate limit, jittered between half and all of base * 2^times', () => {
    expect([0, 1, 2, 3].map((t) => rateLimitDelayMs(2000, t, low))).toEqual([1000, 2000, 4000, 8000]);
    expect([0, 1, 2, 3].map((t) => rateLimitDelayMs(2000, t, high))).toEqual([2000, 4000, 8000, 16_000]);
    expect(rateLimitDelayMs(2000, 2, () => 0.5)).toBe(6000);
  });

  it('grows whatever the draws: the shortest wait after n+1 rate limits is the longest after n', () => {
    for (let t = 0; t < 8; t++) expect(rateLimitDelayMs(1000, t + 1, low)).toBeGreaterThanOrEqual(rateLimitDelayMs(1000, t, high));
  });

  it('spreads questions deferred together', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647);
    const delays = Array.from({ length: 50 }, () => rateLimitDelayMs(1000, 4, random));
    expect(new Set(delays).size).toBeGreaterThan(40);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(8000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(16_000);
  });

  it('is capped at five minutes, however many rate limits and whatever the API asked', () => {
    expect(RATE_LIMIT_CAP_MS).toBe(300_000);
    expect(rateLimitDelayMs(1000, 9, high)).toBe(300_000);
    expect(rateLimitDelayMs(1000, 9, low)).toBe(150_000);
    expect(rateLimitDelayMs(1000, 5000, high)).toBe(300_000);
    expect(rateLimitDelayMs(1000, 0, low, 3_600_000)).toBe(300_000);
  });

  it('waits at least what the API asked for', () => {
    expect(rateLimitDelayMs(1000, 0, low, 20_000)).toBe(20_000);
    expect(rateLimitDelayMs(1000, 3, low, 100)).toBe(4000);
  });

  it('never waits under half a second, even with --backoff-ms 0', () => {
    expect(rateLimitDelayMs(0, 0, low)).toBe(500);
    expect(rateLimitDelayMs(50, 1, low)).toBe(1000);
  });
});

describe('onRateLimit', () => {
  const policy = { baseMs: 1000, maxDeferMs: 60_000, random: () => 0 };

  it('defers a first rate limit, starting the --max-defer clock', () => {
    expect(onRateLimit(undefined, 5000, policy)).toEqual({ defer: true, delayMs: 500, deferral: { since: 5000, times: 1 } });
  });

  it('counts the rate limits and keeps the clock', () => {
    expect(onRateLimit({ since: 5000, times: 3 }, 20_000, policy)).toEqual({ defer: true, delayMs: 4000, deferral: { since: 5000, times: 4 } });
  });

  it('gives up once deferred --max-defer since the first', () => {
    expect(onRateLimit({ since: 5000, times: 6 }, 65_000, policy)).toEqual({ defer: false, deferredMs: 60_000 });
    expect(onRateLimit({ since: 5000, times: 6 }, 99_000, policy)).toEqual({ defer: false, deferredMs: 94_000 });
  });

  it('never waits past the --max-defer deadline, so the last try (and the error response) comes on time', () => {
    expect(onRateLimit({ since: 5000, times: 9 }, 60_000, policy)).toEqual({ defer: true, delayMs: 5000, deferral: { since: 5000, times: 10 } });
    expect(onRateLimit(undefined, 0, { ...policy, maxDeferMs: 300 })).toMatchObject({ defer: true, delayMs: 300 });
  });

  it('takes a clock from the future (another host) as now', () => {
    expect(onRateLimit({ since: 90_000, times: 1 }, 10_000, policy)).toEqual({ defer: true, delayMs: 1000, deferral: { since: 10_000, times: 2 } });
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
