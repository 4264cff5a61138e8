import type { LedgerRow } from '../../bridge/Ledger.js';
import { readResponse } from '../../bridge/readResponse.js';

/** Where a question asked through the server stands, as the tools report it. */
export type QuestionState =
  | { status: 'answered'; answer: string; sources: string[]; model: string | null; responseTimeSec: number | null }
  | { status: 'failed'; reason: string; errorKind: string | null }
  /** On the bridge, not yet taken by a shard. */
  | { status: 'waiting' }
  /** Taken by a shard: in its queue or being answered. */
  | { status: 'being_answered' };

/** A response body as the asker reads it: an answer (empty when it has no answer text), or autopoll's error response with its reason. */
export function stateOfResponse(body: Record<string, unknown>): QuestionState {
  const r = readResponse(body);
  if (r.error) return { status: 'failed', reason: r.error.message, errorKind: r.error.kind };
  return { status: 'answered', answer: r.answer ?? '', sources: r.sources, model: r.model, responseTimeSec: r.responseTimeSec };
}

/** With no response row to read: what the producer's ledger says of the question (no row: not taken yet). */
export function stateOfLedger(row: Pick<LedgerRow, 'state' | 'error_kind' | 'last_error'> | undefined): QuestionState {
  if (row === undefined) return { status: 'waiting' };
  if (row.state === 'queued') return { status: 'being_answered' };
  if (row.state === 'answered') return { status: 'failed', reason: 'the shard recorded an answer, but its response row is not on the bridge any more', errorKind: null };
  return { status: 'failed', reason: row.last_error ?? `the shard ${row.state === 'rejected' ? 'rejected' : 'could not answer'} the question`, errorKind: row.error_kind };
}
