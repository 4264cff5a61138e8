import type { Queue } from 'bullmq';
import type { IndexedJob } from '../shared/findIndex.js';
import type { QuestionJob } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import { withinRoom, type Backpressure } from './Backpressure.js';
import type { Db } from '../bridge/openBridge.js';
import type { ContextReader } from './ContextReader.js';
import type { ConversationRegistry } from './ConversationRegistry.js';
import { InboxScanner, type InboxRow } from './InboxScanner.js';
import { Coalesced } from '../shared/Coalesced.js';
import type { LedgerRow } from '../bridge/Ledger.js';
import type { MessageTaker, QueuedQuestion } from './MessageTaker.js';
import { questionFromBridge } from './questionFromBridge.js';
import { judgeRows } from './QuestionJudge.js';
import { jobTelemetry, type Tracing } from '../shared/tracing/telemetry.js';

/** The producer's parts the intake uses. */
export interface IntakeParts {
  db: Db;
  registry: ConversationRegistry;
  contexts: ContextReader;
  taker: MessageTaker;
  backpressure: Backpressure;
  questions: Queue;
  /** Indexes jobs (and rejected questions) for the board's find (indexQuestions), before they are enqueued. */
  index: (jobs: IndexedJob[]) => Promise<void>;
  tracing: Tracing;
}

export interface IntakeOptions {
  bridgeId: string;
  /** Bridge rows taken per transaction. */
  batchSize: number;
  /** The producer stopping (closed, or its bridge file lost): no more taking. */
  stopping: AbortSignal;
  /** Runs a bridge write, retrying while the file is busy (until `stopping`). */
  busy: <T>(what: string, fn: () => T) => Promise<T>;
  onTaken: (e: { queued: number; rejected: number }) => void;
}

/**
 * The producer's taking: scans the bridge for questions of the served conversations, judges them,
 * takes them into the ledger as the questions queue has room, and enqueues them; and rebuilds
 * from the bridge a question Redis lost.
 */
export class Intake {
  private readonly scanner: InboxScanner;
  // A queued pass does nothing once the producer stops: the bridge file is closed after stop().
  private readonly pumping = new Coalesced(async () => (this.options.stopping.aborted ? undefined : this.drain()));
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly parts: IntakeParts,
    private readonly options: IntakeOptions,
    private readonly logger: Logger,
  ) {
    this.scanner = new InboxScanner(parts.db);
  }

  /** Starts the scan at the bridge's current top: older unread rows are taken as backlogs. */
  startAtTop(): void {
    this.scanner.startAtTop();
  }

  /** Clears a pending retry and waits for the pass under way. */
  async stop(): Promise<void> {
    clearTimeout(this.retry);
    await this.pumping.settled();
  }

  /** Scans for new questions now (coalesced: one pass at a time, rerun if asked meanwhile). */
  pump(): void {
    if (!this.options.stopping.aborted) this.pumping.run();
  }

  private async drain(): Promise<void> {
    const batch = this.options.batchSize;
    try {
      for (;;) {
        const rows = this.scanner.next(batch);
        const served = rows.filter((r) => this.parts.registry.isServed(r.conversation_id));
        const last = served.length ? await this.takeRows(served) : undefined;
        if (last !== undefined && last < served[served.length - 1]!.id) {
          // Backpressure took part of the batch: the rest is scanned again (and waits for room).
          this.scanner.rewind(last);
          continue;
        }
        if (rows.length < batch || this.options.stopping.aborted) return;
      }
    } catch (err) {
      if (this.options.stopping.aborted) return;
      this.logger.error({ err }, 'taking questions from the bridge failed; retrying in 1 s');
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.pump(), 1000);
    }
  }

  /** Takes the rows, as many as the questions queue has room for; returns the id of the last one taken. */
  private async takeRows(rows: InboxRow[]): Promise<number> {
    const verdicts = await judgeRows(rows, this.parts.contexts);
    try {
      const room = await this.parts.backpressure.admit(verdicts.filter((v) => v.accept).length, this.options.stopping);
      const admitted = withinRoom(verdicts, room);
      const takeStarted = Date.now();
      const { jobs, rejected } = await this.options.busy('take questions', () => this.parts.taker.take(admitted));
      this.options.onTaken({ queued: jobs.length, rejected: admitted.filter((v) => !v.accept).length });
      if (jobs.length || rejected.length) await this.enqueue(jobs, takeStarted, rejected);
      return admitted[admitted.length - 1]!.row.id;
    } catch (err) {
      // Nothing was taken: the rows are still unread, so look at them again.
      this.scanner.rewind(rows[0]!.id - 1);
      throw err;
    }
  }

  /**
   * Each question starts its own trace here (from its take, when `takeStarted` says when that
   * began; else a reconcile's re-enqueue), its job carrying the enqueue span to the consumer.
   * The take's rejected questions are indexed with its jobs: one index write per take.
   */
  async enqueue(jobs: QueuedQuestion[], takeStarted?: number, rejected: IndexedJob[] = []): Promise<void> {
    // Indexed for the board's find first: an enqueued job is always findable (see indexQuestions).
    await this.parts.index([...jobs, ...rejected]);
    if (!jobs.length) return;
    const { tracing } = this.parts;
    const roots = jobs.map(({ id, data: j }) =>
      tracing.startRoot(takeStarted === undefined ? 'question re-enqueue' : 'question take', { 'autopoll.job_id': id, 'autopoll.message_id': j.messageId, 'autopoll.query_id': j.queryId, 'autopoll.conversation_id': j.conversationId }, takeStarted),
    );
    const spans = roots.map((root) => tracing.startChild(root, 'question enqueue', { 'messaging.destination.name': this.parts.questions.name }));
    try {
      await this.parts.questions.addBulk(jobs.map(({ id, data }, i) => ({ name: 'question', data, opts: { jobId: id, ...jobTelemetry(spans[i]!.metadata()) } })));
    } catch (err) {
      for (const span of spans) span.fail(err);
      throw err;
    } finally {
      for (const span of [...spans, ...roots]) span.end();
    }
    for (const { id, data: j } of jobs) {
      this.logger.debug({ conversation: j.conversationId, messageId: j.messageId, queryId: j.queryId, job: id }, 'question enqueued');
    }
  }

  /**
   * Takes the unread questions of a conversation it has just started to serve. A take that fails
   * rewound the scan below its rows, out of the backlog's reach: the intake's own pass takes them
   * (and retries every 1 s), started now rather than at the next commit of another process.
   */
  async takeBacklog(conversationId: string): Promise<void> {
    let after = 0;
    for (;;) {
      const rows = this.scanner.backlogOf(conversationId, after, this.options.batchSize);
      if (rows.length === 0) return;
      try {
        after = await this.takeRows(rows);
      } catch (err) {
        this.pump();
        throw err;
      }
    }
  }

  /** The job for a ledger row whose job Redis lost, rebuilt from the bridge row itself. */
  async rebuild(row: LedgerRow): Promise<QuestionJob | undefined> {
    const rebuilt = await questionFromBridge(this.parts.db, this.parts.contexts, row.message_id, this.options.bridgeId);
    if ('job' in rebuilt) return rebuilt.job;
    await this.options.busy('reject lost question', () => this.parts.taker.failLost(row, rebuilt.reason));
    return undefined;
  }
}
