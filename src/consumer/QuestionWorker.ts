import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisConnection } from '../shared/redis.js';
import { EventEmitter, setMaxListeners } from 'node:events';
import { z } from 'zod';
import { describeZodError, QuestionJobSchema, type AnswerJob, type AnswerOutcome, type QuestionJob } from '../shared/jobs.js';
import { closeWorker } from '../shared/closing.js';
import type { Logger } from '../shared/logger.js';
import { ANSWER_JOB_OPTIONS, ANSWERS_QUEUE, QUESTIONS_QUEUE } from '../shared/queues.js';
import { redactValues } from '../shared/redact.js';
import type { QuestionWorkerEvents } from '../shared/roleEvents.js';
import { AnswerSender } from './AnswerSender.js';
import type { Answerer } from './Answerer.js';
import { decideOnFailure, type FailureAction } from './failureDecision.js';
import { closingMarks, runOf, type Run } from '../shared/attempts.js';
import type { Failure } from './retryPolicy.js';
import { NO_TRACING, type Tracing } from '../shared/tracing/telemetry.js';
import { answerAttributes } from './answerSpan.js';

export interface QuestionWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  /** Questions answered at once: one per session. */
  concurrency: number;
  attempts: number;
  backoffMs: number;
  /** A question rate limited for this long since its first rate limit gets an error response `rate_limited`. */
  maxDeferMs: number;
  /** How long a job stays locked to a consumer that stopped renewing it (one that died). */
  lockDurationMs: number;
  /** The worker's name, as BullMQ and `autopoll status` list it. */
  name: string;
  /** The question's trace: BullMQ's `process` span, the answerer's turn in it (NO_TRACING when off). */
  tracing?: Tracing | undefined;
}

/** Enough of a question job to send an error response when the rest of it is unusable. */
const AddressSchema = QuestionJobSchema.pick({ bridgeId: true, messageId: true, conversationId: true, queryId: true });

/**
 * The consumer's BullMQ worker on `questions`: one question per concurrency slot, handed to the
 * answerer, its result put on `answers`. Retries are the consumer's policy (--attempts,
 * --backoff-ms): a failed try moves the job to delayed; the last one sends an error response.
 * A rate limit moves it to delayed too, unspent, for growing waits up to --max-defer.
 */
export class QuestionWorker extends EventEmitter<QuestionWorkerEvents> {
  readonly worker: Worker;
  /** Questions being answered right now. */
  busy = 0;
  readonly answers: Queue;
  private readonly sender: AnswerSender;
  /** Why it takes no more questions (no usable credentials); undefined while it takes them. */
  haltedBecause: string | undefined;
  /** Aborted when close begins: questions still waiting for a session are handed back at once. */
  private readonly stopping = new AbortController();
  private readonly tracing: Tracing;

  constructor(
    private readonly answerer: Answerer,
    private readonly options: QuestionWorkerOptions,
    private readonly logger: Logger,
  ) {
    super();
    // Every question in flight may listen for the stop (the Claude pool's queue, and its wait for a
    // start): above Node's 10 it would print an EventTarget leak warning, which this is not.
    setMaxListeners(2 * options.concurrency + 10, this.stopping.signal);
    this.tracing = options.tracing ?? NO_TRACING;
    this.answers = new Queue(ANSWERS_QUEUE, { connection: options.connection, prefix: options.prefix, defaultJobOptions: ANSWER_JOB_OPTIONS, telemetry: this.tracing.bullmq });
    this.answers.on('error', (err) => logger.debug({ err }, 'answers queue connection error'));
    this.sender = new AnswerSender(this.answers, this.tracing);
    this.worker = new Worker(QUESTIONS_QUEUE, (job, token, signal) => this.process(job, token, signal), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.lockDurationMs,
      // A question whose consumer keeps dying fails after as many tries as any other.
      maxStalledCount: options.attempts,
      name: options.name,
      autorun: false,
      telemetry: this.tracing.bullmq,
    });
    this.worker.on('error', (err) => logger.debug({ err }, 'questions worker connection error'));
  }

  start(): void {
    this.worker.run().catch((err: unknown) => this.logger.error({ err }, 'worker stopped with an error'));
  }

  /**
   * Stops taking questions until the consumer is restarted (a failure no retry fixes here, e.g. no
   * usable credentials): says why once, in one line with the fix. Other consumers take the questions.
   */
  halt(reason: string): void {
    if (this.haltedBecause !== undefined) return;
    this.haltedBecause = reason;
    this.logger.error(reason);
    void this.worker.pause(true);
  }

  /** Stops taking jobs; waits for the ones in flight up to `timeoutMs`, then hands them back. */
  async close(timeoutMs: number): Promise<void> {
    this.stopping.abort();
    const inFlight = this.busy > 0;
    if (!(await closeWorker(this.worker, timeoutMs, this.busy)) && inFlight) {
      this.logger.warn({ timeoutMs }, 'in-flight questions did not finish in time; handed them back to the queue');
    }
    await this.answers.close();
  }

  private async process(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    const parsed = QuestionJobSchema.safeParse(job.data);
    if (!parsed.success) return this.refuseInvalid(job, parsed.error);
    // A fetch already under way when the worker was halted can still bring a job: straight back with it.
    if (this.haltedBecause !== undefined) return this.handBack(job, parsed.data, 'this consumer takes no questions');
    this.busy++;
    try {
      return await this.answer(job, parsed.data, token, signal);
    } finally {
      this.busy--;
      if (this.haltedBecause !== undefined) this.emit('halted', this.haltedBecause);
    }
  }

  private async answer(job: Job, question: QuestionJob, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    // Only an answered question's context is dropped: a run of it now could only answer without it.
    if (question.context?.dropped) throw new UnrecoverableError('this question was answered and its context dropped from the job; `autopoll replay` rebuilds it from the bridge');
    const run = runOf(job, this.options.attempts);
    const q: QuestionJob = run.opens ? { ...withoutRateLimits(question), ...run.opens } : question;
    if (run.opens) await job.updateData(q);
    const { attempt } = run;
    const started = Date.now();
    try {
      const result = await this.tracing.inSpan(`answer ${this.answerer.llmType}`, { 'autopoll.attempt': attempt, 'autopoll.round': run.round }, async (span) => {
        const r = await this.answerer.answer(q, {
          attempt,
          replay: run.replay,
          signal: signal ?? new AbortController().signal,
          stopping: this.stopping.signal,
          log: (line) => void job.log(line).catch(() => undefined),
          progress: (value) => void job.updateProgress({ attempt, ...value }).catch(() => undefined),
        });
        span.setAttributes(answerAttributes(r));
        return r;
      });
      const { sessionPid, ...answered } = result;
      // Redacted with the bridge's rules before it leaves the consumer: the answer job's data sits in
      // Redis (and the board), not only in the bridge row, which the producer redacts the same way.
      const { value: outcome, redacted } = redactValues({ kind: 'answer' as const, ...answered });
      await this.sender.send(this.answerJob(job, q, run, outcome, redacted));
      await this.dropContext(job, q);
      const ms = Date.now() - started;
      this.logger.info({ ...logIds(job, q, run), sessionId: result.sessionId, sessionPid, ms }, 'question answered');
      this.emit('answered', { ms, attempt, usage: result.usage });
      return { sessionId: result.sessionId, sessionPid, model: result.model, sources: outcome.sources };
    } catch (err) {
      const { attempts, backoffMs, maxDeferMs } = this.options;
      const failed = { aborted: signal?.aborted === true, stopping: this.stopping.signal.aborted, attempt, locked: Boolean(token), rateLimited: q.rateLimited, startFailures: q.startFailures ?? 0, now: Date.now() };
      const action = decideOnFailure(err, failed, { attempts, backoffMs, maxDeferMs, random: Math.random });
      switch (action.do) {
        case 'handBack':
          return this.handBack(job, q, action.why);
        case 'handBackLater':
          return this.handBackLater(job, q, action, token!);
        case 'halt':
          return this.stopTakingWork(job, q, action.reason);
        case 'defer':
          return this.backOff(job, q, run, action, token!);
        case 'retry':
          return this.retryLater(job, q, run, action, token!);
        case 'fail':
          return this.failForGood(job, q, run, action.failure);
      }
    }
  }

  /** Another try of the question after the backoff. */
  private async retryLater(job: Job, q: QuestionJob, run: Run, retry: Extract<FailureAction, { do: 'retry' }>, token: string): Promise<never> {
    const { failure, delayMs: delay } = retry;
    this.emit('attemptFailed', { kind: failure.kind, final: false });
    this.logger.warn({ ...logIds(job, q, run), kind: failure.kind, err: failure.message, retryInMs: delay }, 'answering failed; will retry');
    await job.log(`attempt ${run.attempt} failed (${failure.kind}): ${failure.message}; retry in ${delay} ms`).catch(() => undefined);
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError();
  }

  /** The asker gets an error response and the job fails: `autopoll replay` (or the board's retry) can run it again. */
  private async failForGood(job: Job, q: QuestionJob, run: Run, failure: Failure): Promise<never> {
    this.emit('attemptFailed', { kind: failure.kind, final: true });
    this.logger.error({ ...logIds(job, q, run), kind: failure.kind, err: failure.message }, 'answering failed for good; sending an error response');
    const outcome: AnswerOutcome = { kind: 'error', errorKind: failure.kind, message: failure.message };
    await this.sender.send(this.answerJob(job, q, run, outcome, failure.redacted === true));
    // A later run of this job (a retry from the board, a replay) is a new round whose answer may follow the error.
    await job.updateData({ ...withoutRateLimits(q), ...closingMarks(job) });
    throw new UnrecoverableError(`${failure.kind}: ${failure.message}`);
  }

  /**
   * Overload or rate limit: this question waits (delayed, unspent), longer each time, and the
   * worker goes on with other questions (no queue-wide limiter: other consumers, other keys, may
   * be fine).
   */
  private async backOff(job: Job, q: QuestionJob, run: Run, wait: Extract<FailureAction, { do: 'defer' }>, token: string): Promise<never> {
    const { delayMs, deferral, message } = wait;
    this.logger.warn({ ...logIds(job, q, run), err: message, delayMs, rateLimits: deferral.times }, 'Claude API overloaded or rate limiting; the question waits');
    await job.updateData({ ...q, deferrals: (q.deferrals ?? 0) + 1, rateLimited: deferral });
    await job.log(`${message}; rate limit ${deferral.times}: next try in ${delayMs} ms, without spending an attempt`).catch(() => undefined);
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  /**
   * An answered question's job stays for days (the board shows it) but needs its context no more:
   * the text goes, so that retention keeps ids and questions, not up to --context-max-bytes each.
   * Best effort: the answer is sent, and a failure here must not make it try again.
   */
  private async dropContext(job: Job, q: QuestionJob): Promise<void> {
    if (!q.context) return;
    await job.updateData({ ...q, context: { ...q.context, text: '', dropped: true } }).catch((err: unknown) => this.logger.warn({ job: job.id, err }, 'could not drop the context text from an answered job'));
  }

  /**
   * A failure no retry fixes here (the credentials were refused): stop taking questions, and hand
   * this one back at once, unspent, for a consumer whose credentials work.
   */
  private async stopTakingWork(job: Job, q: QuestionJob, reason: string): Promise<never> {
    this.halt(reason);
    return this.handBack(job, q, reason);
  }

  /** Puts the question back in the queue without spending an attempt (BullMQ's rate-limit path). */
  private async handBack(job: Job, q: QuestionJob, why: string): Promise<never> {
    await this.markUnspent(job, { ...q, deferrals: (q.deferrals ?? 0) + 1 }, why);
    throw Worker.RateLimitError();
  }

  /** Its session did not start, so it was never asked: back in the queue after the backoff, unspent, the start failure counted. */
  private async handBackLater(job: Job, q: QuestionJob, later: Extract<FailureAction, { do: 'handBackLater' }>, token: string): Promise<never> {
    const { why, delayMs } = later;
    this.logger.warn({ job: job.id, queryId: q.queryId, err: why, retryInMs: delayMs }, 'the question was not asked: its session did not start; handed back');
    await this.markUnspent(job, { ...q, deferrals: (q.deferrals ?? 0) + 1, startFailures: (q.startFailures ?? 0) + 1 }, `${why}; in ${delayMs} ms`);
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  private async markUnspent(job: Job, data: QuestionJob, why: string): Promise<void> {
    await job.updateData(data);
    await job.log(`${why}; handed back to the queue without spending an attempt`).catch(() => undefined);
  }

  private answerJob(job: Job, q: Pick<QuestionJob, 'bridgeId' | 'messageId' | 'conversationId' | 'queryId'>, run: Run, outcome: AnswerOutcome, redacted = false): AnswerJob {
    return {
      // Absent only from a job made before bridge identity, and so from its answer.
      ...(q.bridgeId !== undefined ? { bridgeId: q.bridgeId } : {}),
      messageId: q.messageId,
      conversationId: q.conversationId,
      queryId: q.queryId,
      questionJobId: job.id!,
      llmType: this.answerer.llmType,
      attempts: run.attempt,
      ...(run.replay ? { replay: true } : {}),
      ...(run.round > 0 ? { round: run.round } : {}),
      ...(redacted ? { redacted: true } : {}),
      outcome,
    };
  }

  /** Bad job data cannot be answered; when the question can still be addressed, say so to the asker. */
  private async refuseInvalid(job: Job, error: z.ZodError): Promise<never> {
    const why = `invalid question job data: ${describeZodError(error)}`;
    const address = AddressSchema.safeParse(job.data);
    this.logger.error({ job: job.id, why }, 'question job refused');
    if (address.success) {
      const outcome: AnswerOutcome = { kind: 'error', errorKind: 'invalid_job', message: why };
      await this.sender.send(this.answerJob(job, address.data, { attempt: 1, replay: false, round: 0 }, outcome));
    }
    throw new UnrecoverableError(why);
  }
}

/** A new round counts its rate limits (and their --max-defer) afresh. */
function withoutRateLimits(q: QuestionJob): QuestionJob {
  const { rateLimited: _, ...rest } = q;
  return rest;
}

/** What every log line about a run names. */
function logIds(job: Job, q: QuestionJob, run: Run): Record<string, unknown> {
  return { conversation: q.conversationId, messageId: q.messageId, queryId: q.queryId, job: job.id, attempt: run.attempt, ...(run.replay ? { replay: run.round } : {}) };
}
