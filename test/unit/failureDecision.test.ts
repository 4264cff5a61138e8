import { describe, expect, it } from 'vitest';
import { AnswerError, FatalAnswererError, RateLimitedError, SessionStartError } from '../../src/consumer/Answerer.js';
import { decideOnFailure, START_FAILURE_HAND_BACKS, type FailedRun } from '../../src/consumer/failureDecision.js';

const policy = { attempts: 3, backoffMs: 1000, maxDeferMs: 60_000, random: () => 0 };
const run = (over: Partial<FailedRun> = {}): FailedRun => ({ aborted: false, stopping: false, attempt: 1, locked: true, rateLimited: undefined, startFailures: 0, now: 5000, ...over });

describe('decideOnFailure', () => {
  it('hands the question back, unspent, when the consumer is shutting down, whatever the error', () => {
    for (const err of [new Error('aborted'), new RateLimitedError('429'), new FatalAnswererError('auth', 'bad key')]) {
      expect(decideOnFailure(err, run({ aborted: true }), policy)).toEqual({ do: 'handBack', why: 'the consumer is shutting down' });
    }
  });

  it("once the consumer's close began: a question still waiting for a session goes back unspent, any other failure is what it was", () => {
    const stopping = run({ stopping: true, startFailures: START_FAILURE_HAND_BACKS });
    expect(decideOnFailure(new SessionStartError('no Claude Code session was free: the consumer is shutting down'), stopping, policy)).toEqual({ do: 'handBack', why: 'the consumer is shutting down' });
    expect(decideOnFailure(new AnswerError('api_error', 'the API refused the question (HTTP 400)', true), stopping, policy)).toMatchObject({ do: 'retry' });
    expect(decideOnFailure(new RateLimitedError('429', 2000), stopping, policy)).toMatchObject({ do: 'defer', delayMs: 2000 });
  });

  it('stops taking questions on a failure no retry fixes here', () => {
    expect(decideOnFailure(new FatalAnswererError('auth', 'the API key was refused', 401), run(), policy)).toEqual({ do: 'halt', reason: 'the API key was refused' });
  });

  it('defers a rate-limited question, unspent, even on its last attempt', () => {
    expect(decideOnFailure(new RateLimitedError('429 too many requests', 2000), run({ attempt: 3 }), policy)).toEqual({
      do: 'defer',
      delayMs: 2000,
      deferral: { since: 5000, times: 1 },
      message: '429 too many requests',
    });
    expect(decideOnFailure(new RateLimitedError('overloaded'), run({ rateLimited: { since: 1000, times: 2 } }), policy)).toMatchObject({
      do: 'defer',
      deferral: { since: 1000, times: 3 },
    });
  });

  it('gives a question rate limited for --max-defer an error response rate_limited', () => {
    expect(decideOnFailure(new RateLimitedError('429 too many requests'), run({ rateLimited: { since: 5000, times: 6 }, now: 95_400 }), policy)).toEqual({
      do: 'fail',
      failure: {
        kind: 'rate_limited',
        message:
          "rate limited: 429 too many requests, and it has been for 90 s since this question was first deferred (the consumer's --max-defer is 60 s); " +
          'it was not answered: an operator can run it again with `autopoll replay`',
        retryable: false,
      },
    });
  });

  it('retries a retryable failure after the backoff while attempts are left', () => {
    expect(decideOnFailure(new AnswerError('timeout', 'took too long', true), run({ attempt: 2 }), policy)).toEqual({
      do: 'retry',
      failure: { kind: 'timeout', message: 'took too long', retryable: true },
      delayMs: 2000,
    });
    expect(decideOnFailure(new TypeError('boom'), run(), policy)).toEqual({ do: 'retry', failure: { kind: 'internal', message: 'boom', retryable: true }, delayMs: 1000 });
  });

  it('hands a question whose session did not start back unspent, after a growing backoff, even on its last attempt', () => {
    const notStarted = new SessionStartError('Claude Code did not start: exited (code 1)');
    expect(decideOnFailure(notStarted, run({ attempt: 3 }), policy)).toEqual({ do: 'handBackLater', why: 'Claude Code did not start: exited (code 1) (start failure 1 of 5)', delayMs: 1000 });
    expect(decideOnFailure(notStarted, run({ startFailures: 2 }), policy)).toMatchObject({ do: 'handBackLater', delayMs: 4000 });
  });

  it('spends attempts on start failures past the bound, so a setup that never starts a session still answers with an error', () => {
    const notStarted = new SessionStartError('Claude Code did not start: exited (code 1)');
    const failure = { kind: 'session_start_failed', message: 'Claude Code did not start: exited (code 1)', retryable: true };
    expect(decideOnFailure(notStarted, run({ startFailures: START_FAILURE_HAND_BACKS }), policy)).toEqual({ do: 'retry', failure, delayMs: 1000 });
    expect(decideOnFailure(notStarted, run({ startFailures: START_FAILURE_HAND_BACKS, attempt: 3 }), policy)).toEqual({ do: 'fail', failure });
    // No lock, no move to delayed: as any failure without one.
    expect(decideOnFailure(notStarted, run({ locked: false }), policy)).toMatchObject({ do: 'fail' });
  });

  it('fails for good: not retryable, the last attempt, or no lock to move the job with', () => {
    const timeout = new AnswerError('timeout', 'took too long', true);
    expect(decideOnFailure(new AnswerError('refused', 'bad question', false), run(), policy)).toEqual({ do: 'fail', failure: { kind: 'refused', message: 'bad question', retryable: false } });
    expect(decideOnFailure(timeout, run({ attempt: 3 }), policy)).toEqual({ do: 'fail', failure: { kind: 'timeout', message: 'took too long', retryable: true } });
    expect(decideOnFailure(timeout, run({ locked: false }), policy)).toMatchObject({ do: 'fail' });
  });
});
