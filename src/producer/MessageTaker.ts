import type { IndexedJob } from '../shared/findIndex.js';
import type { QuestionJob } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import { questionJobId } from '../shared/queues.js';
import { redactText } from '../shared/redact.js';
import { runImmediate } from '../bridge/BridgeDatabase.js';
import type { Db } from '../bridge/openBridge.js';
import type { BridgeWriter } from '../bridge/BridgeWriter.js';
import type { Ledger, LedgerRow } from '../bridge/Ledger.js';
import type { Verdict } from './QuestionJudge.js';
import { rejectionResponseBody } from '../bridge/responseBody.js';

/** A question job and its id: the id its ledger row was taken with. */
export interface QueuedQuestion {
  id: string;
  data: QuestionJob;
}

/** What a take took: the jobs to enqueue, and the rejected questions (no job) for the board's find. */
export interface Taken {
  jobs: QueuedQuestion[];
  rejected: IndexedJob[];
}

/**
 * Takes inbox rows off the bridge in one BEGIN IMMEDIATE transaction: read=1 and the bridge's
 * get_messages audit row, as the bridge's fetch does, plus a ledger row each. A rejected query
 * that named a query_id gets its error response in the same transaction. Returns the jobs to
 * enqueue; if the process dies before they reach Redis, the reconciler finds them in the ledger.
 */
export class MessageTaker {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly writer: BridgeWriter,
    private readonly logger: Logger,
    private readonly bridgeId: string,
  ) {}

  take(verdicts: Verdict[]): Taken {
    const jobs: QueuedQuestion[] = [];
    const rejected: Array<IndexedJob & { reason: string }> = [];
    runImmediate(this.db, () => {
      const fetched = new Map<string, number>();
      for (const v of verdicts) {
        const { id, conversation_id: conversationId } = v.row;
        if (!this.writer.takeMessage(id)) continue; // someone else read it first
        fetched.set(conversationId, (fetched.get(conversationId) ?? 0) + 1);
        if (v.accept) {
          const jobId = questionJobId(this.bridgeId, id);
          if (this.ledger.insert({ messageId: id, conversationId, queryId: v.queryId, state: 'queued', jobId })) {
            jobs.push({ id: jobId, data: questionJobOf(v, this.bridgeId) });
          }
        } else {
          const responseMessageId = v.queryId !== undefined ? this.sendRejection(conversationId, v.queryId, v.reason) : undefined;
          this.ledger.insert({ messageId: id, conversationId, queryId: v.queryId, state: 'rejected', responseMessageId, lastError: v.reason });
          rejected.push({ id: null, data: { queryId: v.queryId ?? null, messageId: id, conversationId }, reason: v.reason });
        }
      }
      for (const [conversationId, count] of fetched) this.writer.auditFetch(conversationId, count);
    });
    for (const { data, reason } of rejected) {
      this.logger.warn({ conversation: data.conversationId, messageId: data.messageId, reason }, 'message rejected');
    }
    return { jobs, rejected };
  }

  /**
   * A queued question that can no longer be asked (its row or context file is gone since it was
   * taken): it gets an error response, unless it was answered meanwhile.
   */
  failLost(row: LedgerRow, reason: string): void {
    runImmediate(this.db, () => {
      if (this.ledger.get(row.message_id)?.state !== 'queued') return;
      const responseMessageId = this.sendRejection(row.conversation_id, row.query_id ?? '', reason);
      this.ledger.finish({ messageId: row.message_id, state: 'failed', attempts: row.attempts, responseMessageId, errorKind: 'rejected', lastError: reason });
    });
    this.logger.warn({ conversation: row.conversation_id, messageId: row.message_id, reason }, 'queued question could not be rebuilt; error response sent');
  }

  private sendRejection(conversationId: string, queryId: string, reason: string): number {
    return this.writer.sendResponse(conversationId, rejectionResponseBody(queryId, reason));
  }
}

/**
 * The job for an accepted row: what a consumer needs, and no token. The question is redacted as
 * the bridge's send redacts it (a no-op for rows it wrote), like the context file: a row written
 * around the bridge's send must not carry a secret into Redis and the prompt.
 */
export function questionJobOf(v: Extract<Verdict, { accept: true }>, bridgeId: string): QuestionJob {
  return {
    bridgeId,
    messageId: v.row.id,
    conversationId: v.row.conversation_id,
    queryId: v.queryId,
    question: redactText(v.question),
    ...(v.context ? { context: v.context } : {}),
  };
}
