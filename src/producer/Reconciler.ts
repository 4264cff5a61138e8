import type { Job, Queue } from 'bullmq';
import type { AnswerJob, QuestionJob } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import { attemptsSpent } from '../shared/attempts.js';
import { mapWithin } from '../shared/mapWithin.js';
import { answerJobId } from '../shared/queues.js';
import { nowMicros, parseBridgeTimestamp } from '../shared/timestamp.js';
import { INVALID_ANSWER_DATA } from './AnswerWriter.js';
import type { Ledger, LedgerRow } from './Ledger.js';
import type { QueuedQuestion } from './MessageTaker.js';

/** Rows checked at once: Redis round trips, and for a lost row its context file. */
const RECONCILE_CONCURRENCY = 8;
const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export interface ReconcilerOptions {
  /** This producer's bridge file's identity, carried by the error answers it writes. */
  bridgeId: string;
  /** Rows taken more recently than this are left to the normal path. */
  graceMs: number;
  pageSize: number;
}

export interface ReconcileReport {
  checked: number;
  requeued: number;
  answersRetried: number;
  errorsWritten: number;
}

/**
 * Makes Redis agree with the ledger. A queued ledger row must have a live job in one of the
 * queues; when Redis lost it (a crash before enqueue, a restart without persistence, FLUSHALL)
 * the question is enqueued again. A question whose job failed without leaving an error answer
 * gets one, and an answer job that failed to write is retried, or, when its data can never be
 * written, replaced by an error response: nothing is timed out silently, nothing retried for ever.
 */
export class Reconciler {
  constructor(
    private readonly ledger: Ledger,
    private readonly questions: Queue,
    private readonly answers: Queue,
    private readonly rebuildJob: (row: LedgerRow) => Promise<QuestionJob | undefined>,
    private readonly enqueue: (jobs: QueuedQuestion[]) => Promise<void>,
    private readonly logger: Logger,
    private readonly options: ReconcilerOptions,
  ) {}

  /**
   * One pass over the queued ledger rows. `graceMs` overrides the option: on start it is 0, as no
   * enqueue of this process can be in flight yet.
   */
  async run(graceMs = this.options.graceMs): Promise<ReconcileReport> {
    const report: ReconcileReport = { checked: 0, requeued: 0, answersRetried: 0, errorsWritten: 0 };
    const cutoff = nowMicros() - graceMs * 1000;
    let after = 0;
    for (;;) {
      const page = this.ledger.queuedAfter(after, this.options.pageSize);
      if (page.length === 0) break;
      after = page[page.length - 1]!.message_id;
      const due = page.filter((r) => (parseBridgeTimestamp(r.taken_at) ?? 0) <= cutoff);
      report.checked += due.length;
      const lost: QueuedQuestion[] = [];
      // One row that fails (a job that moved meanwhile) must not stop the pass for the others.
      // Bounded: a row Redis lost is rebuilt, and its context file read, as it is checked.
      await mapWithin(due, RECONCILE_CONCURRENCY, (row) =>
        this.check(row, report, lost).catch((err: unknown) => this.logger.warn({ err }, 'reconciling one question failed; the next pass retries it')),
      );
      if (lost.length) {
        await this.enqueue(lost);
        report.requeued += lost.length;
      }
    }
    if (report.requeued || report.answersRetried || report.errorsWritten) {
      this.logger.warn(report, 'reconciler repaired questions Redis had lost or left behind');
    }
    return report;
  }

  private async check(row: LedgerRow, report: ReconcileReport, lost: QueuedQuestion[]): Promise<void> {
    const qid = row.job_id ?? '';
    const answerIds = [answerJobId(qid, 'answer'), answerJobId(qid, 'error')] as const;
    const [qState, aState, eState] = await Promise.all([
      this.questions.getJobState(qid),
      ...answerIds.map((id) => this.answers.getJobState(id)),
    ]);
    const answerJobs = [[aState!, answerIds[0]], [eState!, answerIds[1]]] as const;
    if (LIVE.has(qState!) || LIVE.has(aState!) || LIVE.has(eState!)) return;
    // Re-read: the answer may have been written while we looked at Redis.
    if (this.ledger.get(row.message_id)?.state !== 'queued') return;
    const ids = { conversation: row.conversation_id, messageId: row.message_id, queryId: row.query_id, job: qid };
    const failed = (await Promise.all(answerJobs.filter(([state]) => state === 'failed').map(([, id]) => this.answers.getJob(id)))).filter((j): j is Job => j !== undefined);
    const unwritable = (j: Job) => (j.failedReason ?? '').startsWith(INVALID_ANSWER_DATA);
    const retriable = failed.find((j) => !unwritable(j));
    if (retriable) {
      await retriable.retry('failed');
      report.answersRetried++;
      this.logger.warn(ids, 'answer job had failed to write; retrying it');
      return;
    }
    // The question job is read only where an error response is built from it: most rows that get
    // this far were lost by Redis and are enqueued again below.
    if (failed[0] && row.query_id) {
      const question = qState === 'unknown' ? undefined : await this.questions.getJob(qid);
      await this.sendError(row, eState!, `the answer could not be written: ${failed[0].failedReason}`, question);
      report.errorsWritten++;
      this.logger.warn({ ...ids, answerJob: failed[0].id }, 'answer job holds data that can never be written; sending an error response instead');
      return;
    }
    const question = qState === 'failed' ? await this.questions.getJob(qid) : undefined;
    if (question && row.query_id) {
      await this.sendError(row, eState!, question.failedReason ?? 'failed', question);
      report.errorsWritten++;
      this.logger.warn(ids, 'question had failed without an error answer; sending one');
      return;
    }
    if (qState !== 'unknown') await this.questions.remove(qid);
    for (const [state, id] of answerJobs) {
      if (state !== 'unknown') await this.answers.remove(id);
    }
    const job = await this.rebuildJob(row);
    if (job) {
      // Under the id the ledger took it with: a row taken before bridge identity keeps its old
      // id, which is the one its answer must name (the answer writer compares them).
      lost.push({ id: qid, data: job });
      this.logger.warn(ids, 'question missing from Redis; enqueueing it again');
    }
  }

  private async sendError(row: LedgerRow, eState: string, reason: string, question: Job | undefined): Promise<void> {
    const qid = row.job_id ?? '';
    const id = answerJobId(qid, 'error');
    // A finished error job would swallow the add (same id): the bridge lost that write.
    if (eState !== 'unknown') await this.answers.remove(id);
    await this.answers.add('error', this.errorAnswer(row, qid, reason, question ? attemptsSpent(question) : 1, question?.data), { jobId: id });
  }

  private errorAnswer(row: LedgerRow, qid: string, reason: string, attempts: number, data: unknown): AnswerJob {
    // The question job's query id, when the job is this row's, is the asker's exact one (SQLite
    // stores a lone surrogate of the ledger's copy mangled); see AnswerWriter.
    const d = (data ?? {}) as { queryId?: unknown; conversationId?: unknown };
    const own = d.conversationId === row.conversation_id && typeof d.queryId === 'string' && d.queryId !== '';
    return {
      bridgeId: this.options.bridgeId,
      messageId: row.message_id,
      conversationId: row.conversation_id,
      queryId: own ? (d.queryId as string) : (row.query_id ?? ''),
      questionJobId: qid,
      llmType: 'unknown',
      attempts,
      outcome: { kind: 'error', errorKind: 'failed', message: reason },
    };
  }
}
