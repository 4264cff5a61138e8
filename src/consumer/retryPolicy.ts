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
