import { bridgeNow } from './timestamp.js';
import type { Db } from './openBridge.js';

export type LedgerState = 'queued' | 'answered' | 'failed' | 'rejected';

export interface LedgerRow {
  message_id: number;
  conversation_id: string;
  query_id: string | null;
  state: LedgerState;
  attempts: number;
  job_id: string | null;
  taken_at: string;
  finished_at: string | null;
  response_message_id: number | null;
  error_kind: string | null;
  last_error: string | null;
  updated_at: string;
}

/**
 * autopoll_ledger: one row per message the producer took, the source of truth for what is
 * owed an answer. Statements only; the callers own the transactions.
 */
export class Ledger {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly finishStmt;
  private readonly queuedPage;
  private readonly queuedByConversation;
  private readonly byState;
  private readonly inState;
  private readonly byQueryId;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO autopoll_ledger
         (message_id, conversation_id, query_id, state, job_id, taken_at, finished_at, response_message_id, error_kind, last_error, updated_at)
       VALUES (@messageId, @conversationId, @queryId, @state, @jobId, @now, @finishedAt, @responseMessageId, @errorKind, @lastError, @now)`,
    );
    this.getStmt = db.prepare<[number], LedgerRow>('SELECT * FROM autopoll_ledger WHERE message_id = ?');
    this.finishStmt = db.prepare(
      `UPDATE autopoll_ledger SET state = @state, attempts = @attempts, finished_at = @now, response_message_id = @responseMessageId,
         error_kind = @errorKind, last_error = @lastError, updated_at = @now
       WHERE message_id = @messageId AND state IN ('queued', 'failed')`,
    );
    this.queuedPage = db.prepare<[number, number], LedgerRow>(
      `SELECT * FROM autopoll_ledger WHERE state = 'queued' AND message_id > ? ORDER BY message_id LIMIT ?`,
    );
    this.queuedByConversation = db.prepare<[], { conversation_id: string; n: number }>(
      `SELECT conversation_id, COUNT(*) AS n FROM autopoll_ledger WHERE state = 'queued' GROUP BY conversation_id`,
    );
    this.byState = db.prepare<[], { state: LedgerState; n: number }>('SELECT state, COUNT(*) AS n FROM autopoll_ledger GROUP BY state');
    this.inState = db.prepare<[LedgerState], LedgerRow>('SELECT * FROM autopoll_ledger WHERE state = ? ORDER BY message_id');
    this.byQueryId = db.prepare<[string], LedgerRow>('SELECT * FROM autopoll_ledger WHERE query_id = ? ORDER BY message_id');
  }

  /** Records a taken message; false when it was already in the ledger. */
  insert(row: {
    messageId: number;
    conversationId: string;
    queryId?: string | undefined;
    state: 'queued' | 'rejected';
    jobId?: string | undefined;
    responseMessageId?: number | undefined;
    lastError?: string | undefined;
  }): boolean {
    const rejected = row.state === 'rejected';
    const now = bridgeNow();
    return (
      this.insertStmt.run({
        messageId: row.messageId,
        conversationId: row.conversationId,
        queryId: row.queryId ?? null,
        state: row.state,
        jobId: row.jobId ?? null,
        now,
        finishedAt: rejected ? now : null,
        responseMessageId: row.responseMessageId ?? null,
        errorKind: rejected ? 'rejected' : null,
        lastError: row.lastError ?? null,
      }).changes === 1
    );
  }

  get(messageId: number): LedgerRow | undefined {
    return this.getStmt.get(messageId);
  }

  /** Moves a queued (or failed, on replay) row to its end state; false when it was not in one. */
  finish(row: {
    messageId: number;
    state: 'answered' | 'failed';
    attempts: number;
    responseMessageId: number;
    errorKind?: string | undefined;
    lastError?: string | undefined;
  }): boolean {
    return this.finishStmt.run({
      messageId: row.messageId,
      state: row.state,
      attempts: row.attempts,
      now: bridgeNow(),
      responseMessageId: row.responseMessageId,
      errorKind: row.errorKind ?? null,
      lastError: row.lastError ?? null,
    }).changes === 1;
  }

  queuedAfter(messageId: number, limit: number): LedgerRow[] {
    return this.queuedPage.all(messageId, limit);
  }

  /** Rows per state, every state present (0 when none). */
  countsByState(): Record<LedgerState, number> {
    const counts: Record<LedgerState, number> = { queued: 0, answered: 0, failed: 0, rejected: 0 };
    for (const r of this.byState.all()) counts[r.state] = r.n;
    return counts;
  }

  rowsInState(state: LedgerState): LedgerRow[] {
    return this.inState.all(state);
  }

  rowsWithQueryId(queryId: string): LedgerRow[] {
    return this.byQueryId.all(queryId);
  }

  queuedCounts(): Map<string, number> {
    return new Map(this.queuedByConversation.all().map((r) => [r.conversation_id, r.n]));
  }
}

/**
 * The ledger of a bridge file once a producer has made its table (undefined before: its statements
 * cannot be prepared), looked for again on each call until then; for the askers, which never make it.
 */
export function ledgerOnceMade(db: Db): () => Ledger | undefined {
  let ledger: Ledger | undefined;
  return () => {
    try {
      ledger ??= new Ledger(db);
    } catch {
      return undefined;
    }
    return ledger;
  };
}
