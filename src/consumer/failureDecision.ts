import { FatalAnswererError, RateLimitedError, SessionStartError } from './Answerer.js';
import { backoffDelayMs, classifyFailure, onRateLimit, type Failure, type RateLimitDeferral } from './retryPolicy.js';

/** The consumer's retry settings: --attempts, --backoff-ms, --max-defer. */
export interface FailurePolicy {
  attempts: number;
  backoffMs: number;
  maxDeferMs: number;
  /** In [0, 1): the rate-limit waits' jitter. */
  random: () => number;
}

/** What the worker knows of the run that failed. */
export interface FailedRun {
  /** BullMQ cancelled the run (the consumer's close reached it): whatever failed, the question goes back unspent. */
  aborted: boolean;
  /**
   * The consumer's close began: a question that was waiting for a session goes back unspent; any
   * other failure is what it was (an API refusal or a 429 meanwhile must not come back unspent and
   * at once on every restart of a consumer).
   */
  stopping: boolean;
  /** This run's try, within its round. */
  attempt: number;
  /** BullMQ gave the run a lock token: without one the job cannot be moved to delayed. */
  locked: boolean;
  /** The question's rate limits in its current round, as its job data keeps them. */
  rateLimited: RateLimitDeferral | undefined;
  /** Times the question was handed back, unspent, because its session did not start (its job data's `startFailures`). */
  startFailures: number;
  now: number;
}

/**
 * A question whose Claude Code session did not start was never sent: it is handed back unspent
 * this many times (after a backoff), then its start failures spend attempts like any failure, so
 * that a setup that never starts a session still gives its askers an error response.
 */
export const START_FAILURE_HAND_BACKS = 5;

export type FailureAction =
  /** Back to the queue at once, unspent. */
  | { do: 'handBack'; why: string }
  /** Its session did not start: back to the queue after the backoff, unspent, one more start failure counted. */
  | { do: 'handBackLater'; why: string; delayMs: number }
  /** No retry fixes it on this consumer: it takes no more questions, and hands this one back. */
  | { do: 'halt'; reason: string }
  /** Rate limited: the question waits, unspent, longer each time. */
  | { do: 'defer'; delayMs: number; deferral: RateLimitDeferral; message: string }
  /** Another try after the backoff. */
  | { do: 'retry'; failure: Failure; delayMs: number }
  /** The asker gets an error response. */
  | { do: 'fail'; failure: Failure };

/**
 * What the question worker does with a run that threw `err`. Pure (`random` aside, which the
 * policy brings): the worker carries the action out.
 */
export function decideOnFailure(err: unknown, run: FailedRun, policy: FailurePolicy): FailureAction {
  if (run.aborted || (run.stopping && err instanceof SessionStartError)) return { do: 'handBack', why: 'the consumer is shutting down' };
  if (err instanceof RateLimitedError) return onRateLimited(err, run, policy);
  if (err instanceof FatalAnswererError) return { do: 'halt', reason: err.message };
  const failure = classifyFailure(err);
  if (err instanceof SessionStartError && run.startFailures < START_FAILURE_HAND_BACKS && run.locked) {
    const delayMs = backoffDelayMs(policy.backoffMs, run.startFailures + 1);
    return { do: 'handBackLater', why: `${failure.message} (start failure ${run.startFailures + 1} of ${START_FAILURE_HAND_BACKS})`, delayMs };
  }
  if (failure.retryable && run.attempt < policy.attempts && run.locked) return { do: 'retry', failure, delayMs: backoffDelayMs(policy.backoffMs, run.attempt) };
  return { do: 'fail', failure };
}

/** Past --max-defer since its first rate limit, a question gets an error response `rate_limited`. */
function onRateLimited(err: RateLimitedError, run: FailedRun, policy: FailurePolicy): FailureAction {
  const verdict = onRateLimit(run.rateLimited, run.now, { baseMs: policy.backoffMs, maxDeferMs: policy.maxDeferMs, random: policy.random }, err.retryAfterMs);
  if (verdict.defer) return { do: 'defer', delayMs: verdict.delayMs, deferral: verdict.deferral, message: err.message };
  const message =
    `rate limited: ${err.message}, and it has been for ${Math.round(verdict.deferredMs / 1000)} s since this question was first deferred ` +
    `(the consumer's --max-defer is ${Math.round(policy.maxDeferMs / 1000)} s); it was not answered: an operator can run it again with \`autopoll replay\``;
  return { do: 'fail', failure: { kind: 'rate_limited', message, retryable: false } };
}
