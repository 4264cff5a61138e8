import { describe, expect, it } from 'vitest';
import { INVALID_ANSWER_DATA, OTHER_BRIDGE } from '../../src/producer/AnswerWriter.js';
import { decideReconcile, type JobFact, type ReconcileFacts } from '../../src/producer/reconcileDecision.js';

const none: JobFact = { state: 'unknown' };
const failed = (reason: string | undefined): JobFact => ({ state: 'failed', failure: { reason } });
const unwritable = failed(`${INVALID_ANSWER_DATA}: outcome.answer: expected string`);

/** A queued row with a query id whose jobs Redis has all forgotten, changed by `over`. */
function facts(over: Partial<ReconcileFacts> = {}): ReconcileFacts {
  return { queryId: 'q1', question: none, answer: none, error: none, ledgerState: 'queued', ...over };
}

describe('decideReconcile', () => {
  it.each(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'])('leaves a row alone while any of its jobs is %s', (state) => {
    for (const slot of ['question', 'answer', 'error'] as const) {
      expect(decideReconcile(facts({ answer: unwritable, [slot]: { state } }))).toEqual({ do: 'leave', because: 'live' });
    }
  });

  it('leaves a row the ledger no longer has queued (its answer was written meanwhile)', () => {
    for (const ledgerState of ['answered', 'failed', 'rejected', undefined] as const) {
      expect(decideReconcile(facts({ ledgerState, question: failed('boom') }))).toEqual({ do: 'leave', because: 'settled' });
    }
  });

  it('retries an answer job that failed to write, whichever of the two it is', () => {
    expect(decideReconcile(facts({ answer: failed('SQLITE_BUSY: database is locked') }))).toEqual({ do: 'retryAnswer', slot: 'answer' });
    expect(decideReconcile(facts({ answer: unwritable, error: failed(`${OTHER_BRIDGE} x`) }))).toEqual({ do: 'retryAnswer', slot: 'error' });
    // No reason read is no proof that it can never be written.
    expect(decideReconcile(facts({ queryId: null, error: failed(undefined) }))).toEqual({ do: 'retryAnswer', slot: 'error' });
  });

  it('sends an error response instead of an answer job that can never be written', () => {
    expect(decideReconcile(facts({ question: { state: 'completed' }, answer: unwritable }))).toEqual({
      do: 'sendError',
      because: 'unwritable',
      slot: 'answer',
      reason: `the answer could not be written: ${INVALID_ANSWER_DATA}: outcome.answer: expected string`,
      replaceError: false,
    });
    expect(decideReconcile(facts({ error: unwritable }))).toMatchObject({ do: 'sendError', because: 'unwritable', slot: 'error', replaceError: true });
  });

  it('sends an error response for a question that failed without one', () => {
    expect(decideReconcile(facts({ question: failed('timeout: took too long') }))).toEqual({
      do: 'sendError',
      because: 'questionFailed',
      reason: 'timeout: took too long',
      replaceError: false,
    });
    expect(decideReconcile(facts({ question: failed(undefined), error: { state: 'completed' } }))).toEqual({
      do: 'sendError',
      because: 'questionFailed',
      reason: 'failed',
      replaceError: true,
    });
  });

  it('enqueues again a question Redis lost, removing what is left of its jobs', () => {
    expect(decideReconcile(facts())).toEqual({ do: 'requeue', removeQuestion: false, removeAnswers: [] });
    expect(decideReconcile(facts({ question: { state: 'completed' }, error: { state: 'completed' } }))).toEqual({ do: 'requeue', removeQuestion: true, removeAnswers: ['error'] });
  });

  it('enqueues again where no error response can be sent: no query id, or a failed question job gone before it was read', () => {
    expect(decideReconcile(facts({ queryId: null, question: failed('boom'), answer: unwritable }))).toEqual({ do: 'requeue', removeQuestion: true, removeAnswers: ['answer'] });
    expect(decideReconcile(facts({ queryId: '', question: failed('boom') }))).toEqual({ do: 'requeue', removeQuestion: true, removeAnswers: [] });
    expect(decideReconcile(facts({ question: { state: 'failed' } }))).toEqual({ do: 'requeue', removeQuestion: true, removeAnswers: [] });
  });
});
