import type { Job, Queue } from 'bullmq';
import type { AnswerJob, QuestionJob } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import { attemptsSpent } from '../shared/attempts.js';
import { mapWithin } from '../shared/mapWithin.js';
import { answerJobId } from '../shared/queues.js';
import { nowMicros, parseBridgeTimestamp } from '../bridge/timestamp.js';
import type { Ledger, LedgerRow } from '../bridge/Ledger.js';
import type { QueuedQuestion } from './MessageTaker.js';
import { decideReconcile, type AnswerSlot, type JobFact, type ReconcileAction, type ReconcileFacts } from './reconcileDecision.js';

/** Rows checked at once: Redis round trips, and for a lost row its context file. */
const RECONCILE_CONCURRENCY = 8;

export interface ReconcilerOptions {
  /** This producer's bridge file's identity, carried by the error answers it writes. */
  bridgeId: string;
  /** Rows taken more recently than this are left to the normal path. */
  graceMs: number;
  pageSize: number;
  /** The producer stopping: a pass under way checks and writes nothing more, and logs nothing. */
  stopping?: AbortSignal;
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
      const stopping = this.options.stopping;
      await mapWithin(due, RECONCILE_CONCURRENCY, async (row) => {
        if (stopping?.aborted) return;
        await this.check(row, report, lost).catch((err: unknown) => stopping?.aborted || this.logger.warn({ err }, 'reconciling one question failed; the next pass retries it'));
      });
      if (stopping?.aborted) break;
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
    const { facts, jobs } = await this.look(row, qid);
    const action = decideReconcile(facts);
    const ids = { conversation: row.conversation_id, messageId: row.message_id, queryId: row.query_id, job: qid };
    switch (action.do) {
      case 'leave':
        return;
      case 'retryAnswer':
        await jobs[action.slot]!.retry('failed');
        report.answersRetried++;
        this.logger.warn(ids, 'answer job had failed to write; retrying it');
        return;
      case 'sendError': {
        // A question job that did not fail is read only here, where an error response is built
        // from it: look(), run for every row of every pass, reads only the failed ones.
        const question = jobs.question ?? (facts.question.state === 'unknown' ? undefined : await this.questions.getJob(qid));
        await this.sendError(row, action.replaceError, action.reason, question);
        report.errorsWritten++;
        if (action.because === 'unwritable') {
          this.logger.warn({ ...ids, answerJob: jobs[action.slot]!.id }, 'answer job holds data that can never be written; sending an error response instead');
        } else {
          this.logger.warn(ids, 'question had failed without an error answer; sending one');
        }
        return;
      }
      case 'requeue':
        return this.requeue(row, qid, action, ids, lost);
    }
  }

  /**
   * What Redis and the ledger say of the row: the jobs' states, the failed ones read for why, and
   * the ledger row read last, as the answer may have been written while Redis was looked at.
   */
  private async look(row: LedgerRow, qid: string): Promise<{ facts: ReconcileFacts; jobs: Partial<Record<'question' | AnswerSlot, Job>> }> {
    const [question, answer, error] = await Promise.all([
      this.questions.getJobState(qid),
      this.answers.getJobState(answerJobId(qid, 'answer')),
      this.answers.getJobState(answerJobId(qid, 'error')),
    ]);
    const [questionJob, answerJob, errorJob] = await Promise.all([
      question === 'failed' ? this.questions.getJob(qid) : undefined,
      answer === 'failed' ? this.answers.getJob(answerJobId(qid, 'answer')) : undefined,
      error === 'failed' ? this.answers.getJob(answerJobId(qid, 'error')) : undefined,
    ]);
    const fact = (state: string, job: Job | undefined): JobFact => ({ state, ...(job ? { failure: { reason: job.failedReason } } : {}) });
    return {
      facts: {
        queryId: row.query_id,
        question: fact(question, questionJob),
        answer: fact(answer, answerJob),
        error: fact(error, errorJob),
        ledgerState: this.ledger.get(row.message_id)?.state,
      },
      jobs: { question: questionJob, answer: answerJob, error: errorJob },
    };
  }

  private async requeue(row: LedgerRow, qid: string, action: Extract<ReconcileAction, { do: 'requeue' }>, ids: Record<string, unknown>, lost: QueuedQuestion[]): Promise<void> {
    if (action.removeQuestion) await this.questions.remove(qid);
    for (const slot of action.removeAnswers) await this.answers.remove(answerJobId(qid, slot));
    const job = await this.rebuildJob(row);
    if (job) {
      // Under the id the ledger took it with: a row taken before bridge identity keeps its old
      // id, which is the one its answer must name (the answer writer compares them).
      lost.push({ id: qid, data: job });
      this.logger.warn(ids, 'question missing from Redis; enqueueing it again');
    }
  }

  private async sendError(row: LedgerRow, replaceError: boolean, reason: string, question: Job | undefined): Promise<void> {
    const qid = row.job_id ?? '';
    const id = answerJobId(qid, 'error');
    // A finished error job would swallow the add (same id): the bridge lost that write.
    if (replaceError) await this.answers.remove(id);
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
