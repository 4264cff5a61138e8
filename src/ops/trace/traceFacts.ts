import type { LedgerRow } from '../../bridge/Ledger.js';

/**
 * What `autopoll trace` reads of one question, as read: the bridge's rows and, when Redis
 * answered, the jobs. Times are ms since the epoch. buildTrace.ts turns these into the timeline.
 */
export interface BridgeFacts {
  question: { id: number; conversationId: string; at: number | undefined; queryId: string | null };
  ledger: LedgerRow | undefined;
  /** Side b's responses to it, oldest first: error responses carry `error`. */
  responses: Array<{ id: number; at: number | undefined; errorKind?: string }>;
}

export interface QuestionJobFacts {
  id: string;
  state: string;
  /** When the job was added: the take's enqueue, or a replay's rebuild. */
  timestamp: number;
  processedOn?: number | undefined;
  finishedOn?: number | undefined;
  attemptsMade: number;
  attemptsStarted: number;
  failedReason?: string | undefined;
  stacktrace: string[];
  processedBy?: string | undefined;
  returnvalue: unknown;
  data: unknown;
  logs: string[];
}

/** An answer or error job of one round (`a-`/`e-` ids, `-r<n>` for a replay round). */
export interface AnswerJobFacts {
  id: string;
  kind: 'answer' | 'error';
  round: number;
  state: string;
  /** When the consumer put it on `answers`. */
  timestamp: number;
  finishedOn?: number | undefined;
  data: unknown;
}

export type RedisFacts =
  | { reached: true; questionJob: QuestionJobFacts | undefined; answerJobs: AnswerJobFacts[] }
  | { reached: false; error: string };
