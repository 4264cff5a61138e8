import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisConnection } from '../shared/redis.js';
import { EventEmitter } from 'node:events';
import { closeWorker } from '../shared/closing.js';
import { TickBatcher } from '../shared/TickBatcher.js';
import { AnswerJobSchema, describeZodError, type AnswerJob } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import { ANSWERS_QUEUE } from '../shared/queues.js';
import { nowMicros, parseBridgeTimestamp } from '../bridge/timestamp.js';
import { runImmediate } from '../bridge/BridgeDatabase.js';
import type { Db } from '../bridge/openBridge.js';
import type { BridgeWriter } from '../bridge/BridgeWriter.js';
import { retryBusy } from '../bridge/busyRetry.js';
import type { Ledger } from '../bridge/Ledger.js';
import { answerResponseBody } from '../bridge/responseBody.js';
import type { ProducerEvents } from '../shared/roleEvents.js';
import type { Tracing } from '../shared/tracing/telemetry.js';

const ANSWER_LOCK_MS = 5_000;

/** How an answer job whose data can never be written fails (the reconciler tells it apart by this). */
export const INVALID_ANSWER_DATA = 'invalid answer job data';

/** How an answer for another bridge file fails (not INVALID_ANSWER_DATA: its own producer's reconciler may retry it). */
export const OTHER_BRIDGE = 'answer for another bridge';

export interface AnswerWriterOptions {
  connection: RedisConnection;
  prefix: string;
  /** Answers taken from Redis at once; they are written in one transaction per batch. */
  concurrency: number;
  /** This bridge file's identity: answers naming another are never written here. */
  bridgeId: string;
  tracing: Tracing;
}

export type WriteResult =
  | { written: true; responseMessageId: number; state: 'answered' | 'failed'; seconds: number }
  | { written: false; reason: string };

export type AnswerWriterEvents = Pick<ProducerEvents, 'written' | 'dropped'>;

/**
 * The `answers` worker: writes each answer to the bridge as side `b`'s response and moves its
 * ledger row on, both in one transaction, so the bridge gets one answer per query. Answers that
 * arrive together are written together: one transaction per batch keeps SQLite's fsyncs off
 * the per-answer path.
 */
export class AnswerWriter extends EventEmitter<AnswerWriterEvents> {
  readonly worker: Worker;
  private readonly batcher = new TickBatcher<AnswerJob, WriteResult>((batch) => this.write(batch));
  /** Answer jobs being written: an idle writer closes at once, even while Redis is down. */
  private inFlight = 0;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly writer: BridgeWriter,
    private readonly logger: Logger,
    private readonly options: AnswerWriterOptions,
  ) {
    super();
    this.worker = new Worker(ANSWERS_QUEUE, (job) => this.process(job), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // A write takes milliseconds, and SQLITE_BUSY waits without blocking the lock renewals, so a
      // short lock is safe; it lets a restarted producer take over a killed one's answers quickly.
      lockDuration: ANSWER_LOCK_MS,
      stalledInterval: ANSWER_LOCK_MS,
      maxStalledCount: 100,
      autorun: false,
      telemetry: options.tracing.bullmq,
    });
    this.worker.on('error', (err) => this.logger.debug({ err }, 'answers worker connection error'));
  }

  start(): void {
    this.worker.run().catch((err: unknown) => this.logger.error({ err }, 'worker stopped with an error'));
  }

  /** Finishes the batch in flight (bounded by `timeoutMs`, as Redis may be down). */
  async close(timeoutMs: number): Promise<void> {
    await closeWorker(this.worker, timeoutMs, this.inFlight);
  }

  private async process(job: Job): Promise<WriteResult> {
    this.inFlight++;
    try {
      return await this.processJob(job);
    } finally {
      this.inFlight--;
    }
  }

  private async processJob(job: Job): Promise<WriteResult> {
    const parsed = AnswerJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const why = describeZodError(parsed.error);
      this.logger.error({ job: job.id, why }, 'answer job has invalid data; dropped');
      throw new UnrecoverableError(`${INVALID_ANSWER_DATA}: ${why}`);
    }
    const answer = parsed.data;
    if (answer.bridgeId !== undefined && answer.bridgeId !== this.options.bridgeId) {
      // Failed, not handed back: no retry here can write it, and a failed job shows on the board
      // with its reason. Its own bridge's reconciler retries failed answer jobs of its queued rows.
      const why = `${OTHER_BRIDGE}: the answer is for bridge ${answer.bridgeId}, this producer serves bridge ${this.options.bridgeId}; nothing was written (give each bridge its own --prefix)`;
      this.logger.error({ job: job.id, conversation: answer.conversationId, messageId: answer.messageId, answerBridge: answer.bridgeId, bridgeId: this.options.bridgeId }, why);
      this.emit('dropped', { reason: OTHER_BRIDGE });
      throw new UnrecoverableError(why);
    }
    const result = await this.options.tracing.inSpan('answer write', { 'autopoll.job_id': job.id, 'autopoll.outcome': answer.outcome.kind }, async (span) => {
      const r = await this.batcher.submit(answer);
      span.setAttributes(r.written ? { 'autopoll.state': r.state, 'autopoll.response_message_id': r.responseMessageId } : { 'autopoll.dropped': r.reason });
      return r;
    });
    this.log(answer, job.id ?? '', result);
    return result;
  }

  private async write(batch: AnswerJob[]): Promise<WriteResult[]> {
    try {
      return await retryBusy('write answers', this.logger, () => runImmediate(this.db, () => batch.map((job) => this.writeOne(job))));
    } catch (err) {
      this.logger.error({ err, count: batch.length }, 'writing answers to the bridge failed; they will be retried');
      throw err;
    }
  }

  private writeOne(job: AnswerJob): WriteResult {
    const row = this.ledger.get(job.messageId);
    const isAnswer = job.outcome.kind === 'answer';
    if (!row) return { written: false, reason: 'no ledger row: autopoll never took this message' };
    // The ledger, not the job, says where the answer goes: a job from another deployment sharing
    // the prefix (message ids collide) must not write into this bridge's conversations.
    if (row.job_id !== job.questionJobId) return { written: false, reason: `answer is for job ${job.questionJobId}, the ledger took job ${row.job_id}` };
    if (row.state === 'answered') return { written: false, reason: 'duplicate: the query is already answered' };
    if (row.state === 'rejected') return { written: false, reason: 'the query was rejected' };
    if (row.state === 'failed' && !isAnswer) return { written: false, reason: 'duplicate: the query already has an error response' };
    if (row.state === 'failed' && !job.replay) return { written: false, reason: 'late answer after the error response (only a replay may follow one)' };
    const takenAt = parseBridgeTimestamp(row.taken_at) ?? nowMicros();
    const seconds = Math.max(0, Math.round((nowMicros() - takenAt) / 1000) / 1000);
    // The query id as the asker wrote it: the job's, when the job is this row's conversation's. The
    // ledger's copy can differ: SQLite stores a lone surrogate (a JSON "\ud800" escape) mangled.
    const queryId = job.conversationId === row.conversation_id ? job.queryId : (row.query_id ?? job.queryId);
    const addressed = { ...job, conversationId: row.conversation_id, queryId };
    const responseMessageId = this.writer.sendResponse(row.conversation_id, answerResponseBody(addressed, seconds), job.redacted === true);
    const o = job.outcome;
    const state = o.kind === 'error' ? 'failed' : 'answered';
    this.ledger.finish({
      messageId: job.messageId,
      state,
      attempts: job.attempts,
      responseMessageId,
      ...(o.kind === 'error' ? { errorKind: o.errorKind, lastError: o.message.slice(0, 2000) } : {}),
    });
    return { written: true, responseMessageId, state, seconds };
  }

  private log(job: AnswerJob, jobId: string, r: WriteResult): void {
    const ids = { conversation: job.conversationId, messageId: job.messageId, queryId: job.queryId, job: jobId };
    if (r.written) {
      this.logger.info({ ...ids, responseMessageId: r.responseMessageId, state: r.state }, 'response written');
      this.emit('written', { state: r.state, seconds: r.seconds });
    } else {
      this.logger.warn({ ...ids, reason: r.reason }, 'answer dropped');
      this.emit('dropped', { reason: r.reason });
    }
  }
}
