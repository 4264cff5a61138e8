import { INVALID_ANSWER_DATA } from './AnswerWriter.js';
import type { LedgerState } from '../bridge/Ledger.js';

/** The states BullMQ is still going to move a job out of by itself. */
const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** One of a question's jobs, as the reconciler found it. */
export interface JobFact {
  /** BullMQ's state for its id: 'unknown' when there is no such job. */
  state: string;
  /** Set when the job is failed and could still be read (it may be removed in between). */
  failure?: { reason: string | undefined } | undefined;
}

/** The answer jobs of a question: the answer's, and the error response's. */
export type AnswerSlot = 'answer' | 'error';

/** What the reconciler knows of a queued ledger row old enough to be checked. */
export interface ReconcileFacts {
  /** The row's query id: a row without one cannot be sent an error response. */
  queryId: string | null;
  question: JobFact;
  answer: JobFact;
  error: JobFact;
  /** The row's state in the ledger, read after the jobs: the answer may have been written meanwhile. */
  ledgerState: LedgerState | undefined;
}

export type ReconcileAction =
  /** A job is live, or the row is no longer queued: the normal path has it. */
  | { do: 'leave'; because: 'live' | 'settled' }
  /** The answer job failed to write (the bridge was busy, say): run it again. */
  | { do: 'retryAnswer'; slot: AnswerSlot }
  /** The answer job holds data that can never be written: the asker gets an error response instead. */
  | { do: 'sendError'; because: 'unwritable'; slot: AnswerSlot; reason: string; replaceError: boolean }
  /** The question failed and its error response was lost: the asker gets one. */
  | { do: 'sendError'; because: 'questionFailed'; reason: string; replaceError: boolean }
  /** Redis lost the question (or kept only finished jobs of it): its leftovers go, and it is enqueued again. */
  | { do: 'requeue'; removeQuestion: boolean; removeAnswers: AnswerSlot[] };

/**
 * What to do about a queued ledger row, from what Redis and the ledger say of it. Pure: the
 * Reconciler reads the facts and carries the action out. Nothing is timed out silently, nothing
 * retried for ever: an answer job that can be written is retried, one that cannot becomes an
 * error response, as does a failed question, and a question Redis lost is enqueued again.
 */
export function decideReconcile(f: ReconcileFacts): ReconcileAction {
  if (LIVE.has(f.question.state) || LIVE.has(f.answer.state) || LIVE.has(f.error.state)) return { do: 'leave', because: 'live' };
  if (f.ledgerState !== 'queued') return { do: 'leave', because: 'settled' };
  const replaceError = f.error.state !== 'unknown';
  const failed = (['answer', 'error'] as const).flatMap((slot) => {
    const failure = f[slot].failure;
    return failure ? [{ slot, reason: failure.reason }] : [];
  });
  const retriable = failed.find((j) => !(j.reason ?? '').startsWith(INVALID_ANSWER_DATA));
  if (retriable) return { do: 'retryAnswer', slot: retriable.slot };
  const unwritable = failed[0];
  if (unwritable && f.queryId) {
    return { do: 'sendError', because: 'unwritable', slot: unwritable.slot, reason: `the answer could not be written: ${unwritable.reason}`, replaceError };
  }
  if (f.question.failure && f.queryId) {
    return { do: 'sendError', because: 'questionFailed', reason: f.question.failure.reason ?? 'failed', replaceError };
  }
  return {
    do: 'requeue',
    removeQuestion: f.question.state !== 'unknown',
    removeAnswers: (['answer', 'error'] as const).filter((slot) => f[slot].state !== 'unknown'),
  };
}
