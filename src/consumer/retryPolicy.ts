import { redactText } from '../shared/redact.js';
import { AnswerError } from './Answerer.js';

export interface Failure {
  kind: string;
  message: string;
  retryable: boolean;
  /** Secrets were redacted out of the message. */
  redacted?: true;
}

/**
 * What went wrong, in the terms of the error response; unknown errors are worth another try. The
 * message is redacted with the bridge's rules: it goes to the log, the job's log and failed
 * reason, and the error answer, and may quote what the model or the API said.
 */
export function classifyFailure(err: unknown): Failure {
  const raw = err instanceof Error ? err.message : String(err);
  const message = redactText(raw);
  const redacted = message !== raw || (err instanceof AnswerError && err.redacted) ? { redacted: true as const } : {};
  if (err instanceof AnswerError) return { kind: err.kind, message, retryable: err.retryable, ...redacted };
  return { kind: 'internal', message, retryable: true, ...redacted };
}

/** Exponential backoff: base, 2x base, 4x base, ... capped at ten minutes. */
export function backoffDelayMs(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 600_000);
}

/** The longest a rate-limited question waits between two tries. */
export const RATE_LIMIT_CAP_MS = 300_000;
/**
 * The shortest first wait after a rate limit, whatever --backoff-ms says: each try of a question
 * costs a Claude Code turn and an API call, against an API that asked for fewer.
 */
export const RATE_LIMIT_MIN_BASE_MS = 1000;

/** A question's rate-limit hand-backs in its current round, as its job data keeps them. */
export interface RateLimitDeferral {
  /** When the first one happened (ms since the epoch): --max-defer counts from it. */
  since: number;
  /** How many: the backoff's exponent. */
  times: number;
}

/**
 * The wait before the next try of a question the API rate limited (or was overloaded for):
 * min(cap, base * 2^times) with equal jitter (between half of that and all of it), and at least
 * what the API asked for (`retryAfterMs`), capped too. Equal rather than full jitter: the lower
 * half keeps the waits growing whatever the draw, so a question never comes back at once and
 * the API calls a question can cost in a given time stay bounded; the upper half still spreads
 * the questions (and consumers) that the same overload deferred together. Pure: `random` in [0, 1).
 */
export function rateLimitDelayMs(baseMs: number, times: number, random: () => number, retryAfterMs = 0): number {
  const ceiling = Math.min(RATE_LIMIT_CAP_MS, Math.max(baseMs, RATE_LIMIT_MIN_BASE_MS) * 2 ** Math.max(0, times));
  const jittered = ceiling / 2 + (random() * ceiling) / 2;
  return Math.round(Math.min(RATE_LIMIT_CAP_MS, Math.max(jittered, retryAfterMs)));
}

export type RateLimitVerdict =
  | { defer: true; delayMs: number; deferral: RateLimitDeferral }
  | { defer: false; deferredMs: number };

export interface RateLimitPolicy {
  baseMs: number;
  maxDeferMs: number;
  random: () => number;
}

/**
 * What to do with a question the API rate limited at `now`: wait (its next try no later than
 * --max-defer after its first rate limit, so that the last verdict comes on time), or give up
 * once it has been deferred that long. Pure.
 */
export function onRateLimit(prior: RateLimitDeferral | undefined, now: number, policy: RateLimitPolicy, retryAfterMs?: number): RateLimitVerdict {
  const since = Math.min(prior?.since ?? now, now);
  const deferredMs = now - since;
  if (deferredMs >= policy.maxDeferMs) return { defer: false, deferredMs };
  const times = prior?.times ?? 0;
  const delayMs = Math.min(rateLimitDelayMs(policy.baseMs, times, policy.random, retryAfterMs), since + policy.maxDeferMs - now);
  return { defer: true, delayMs, deferral: { since, times: times + 1 } };
}
