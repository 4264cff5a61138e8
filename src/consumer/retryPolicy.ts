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

interface JobRuns {
  attemptsStarted: number;
  data: unknown;
}

function field(data: unknown, name: 'deferrals' | 'priorAttempts'): number {
  const value = (data as Record<string, unknown> | null)?.[name];
  return typeof value === 'number' ? value : 0;
}

/**
 * Tries a question job has used in its current round: every start counts (a consumer that died
 * mid-run spent one), except runs handed back unspent because of a rate limit (`deferrals`) and
 * the starts of earlier rounds (`priorAttempts`). moveToDelayed leaves attemptsMade alone, so
 * attemptsMade cannot count retries.
 */
export function attemptsSpent(job: JobRuns): number {
  return Math.max(1, job.attemptsStarted - field(job.data, 'deferrals') - field(job.data, 'priorAttempts'));
}

export interface Run {
  attempt: number;
  /** Whether this run's answer may follow an error response the question already got. */
  replay: boolean;
  /** The round this run belongs to (its priorAttempts): answer job ids are per round. */
  round: number;
  /** Set when this run opens a new round: the marks to save in the job's data. */
  opens?: { replay: true; priorAttempts: number; deferrals: 0 };
}

/**
 * Which try this run is. A run past the budget can only be an operator's retry of a job that
 * BullMQ failed itself (it stalled too often), so it opens a replay round of its own.
 */
export function runOf(job: JobRuns, budget: number): Run {
  const attempt = attemptsSpent(job);
  const round = field(job.data, 'priorAttempts');
  if (attempt <= budget) return { attempt, replay: (job.data as { replay?: unknown } | null)?.replay === true, round };
  const opens = { replay: true, priorAttempts: job.attemptsStarted - 1, deferrals: 0 } as const;
  return { attempt: 1, replay: true, round: opens.priorAttempts, opens };
}

/** The marks a job gets when its round ends in an error response: a later run of it is a replay. */
export function closingMarks(job: { attemptsStarted: number }): { replay: true; priorAttempts: number; deferrals: 0 } {
  return { replay: true, priorAttempts: job.attemptsStarted, deferrals: 0 };
}
