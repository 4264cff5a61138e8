import { AnswerError } from './Answerer.js';

export interface Failure {
  kind: string;
  message: string;
  retryable: boolean;
}

/** What went wrong, in the terms of the error response; unknown errors are worth another try. */
export function classifyFailure(err: unknown): Failure {
  if (err instanceof AnswerError) return { kind: err.kind, message: err.message, retryable: err.retryable };
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'internal', message, retryable: true };
}

/** Exponential backoff: base, 2x base, 4x base, ... capped at ten minutes. */
export function backoffDelayMs(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 600_000);
}

/**
 * Tries a question job has used: every start counts (a consumer that died mid-run spent one),
 * except the runs handed back unspent because of a rate limit (`deferrals` in its data).
 * moveToDelayed leaves attemptsMade alone, so attemptsMade cannot count retries.
 */
export function attemptsSpent(job: { attemptsStarted: number; data: unknown }): number {
  const deferrals = (job.data as { deferrals?: unknown } | null)?.deferrals;
  return Math.max(1, job.attemptsStarted - (typeof deferrals === 'number' ? deferrals : 0));
}
