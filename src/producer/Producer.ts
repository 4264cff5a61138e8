import { Queue, type Worker } from 'bullmq';
import type { RedisConnection } from '../shared/redis.js';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { hostPid, Presence } from '../shared/Presence.js';
import { PRODUCERS, type ProducerInfo } from '../shared/ProducerPresence.js';
import { ANSWER_JOB_OPTIONS, ANSWERS_QUEUE, JOB_RETENTION, QUESTIONS_QUEUE } from '../shared/queues.js';
import { AnswerWriter } from './AnswerWriter.js';
import { BridgeWatcher } from '../bridge/BridgeWatcher.js';
import { ensureAutopollSchema, openBridgeDatabase, runImmediate } from '../bridge/BridgeDatabase.js';
import type { Db } from '../bridge/openBridge.js';
import { refuseSharedPrefix } from './prefixOwner.js';
import { Backpressure } from './Backpressure.js';
import { isDown } from '../shared/redis.js';
import type { ProducerEvents } from '../shared/roleEvents.js';
import { BridgeWriter } from '../bridge/BridgeWriter.js';
import { retryBusy } from '../bridge/busyRetry.js';
import { ContextReader } from './ContextReader.js';
import { redactText } from '../shared/redact.js';
import type { ConversationGrant } from '../bridge/conversations.js';
import { ConversationRegistry, NothingToServeError } from './ConversationRegistry.js';
import { ConversationRefresher, REFRESH_FAILED } from './ConversationRefresher.js';
import { Heartbeat } from './Heartbeat.js';
import { Intake } from './Intake.js';
import { Ledger } from '../bridge/Ledger.js';
import { MessageTaker } from './MessageTaker.js';
import { Reconciler, type ReconcileReport } from './Reconciler.js';
import { ownedFiles } from '../shared/ownedFiles.js';
import { indexQuestions } from '../shared/findIndex.js';
import { NO_TRACING, type Tracing } from '../shared/tracing/telemetry.js';
import { Periodic } from '../shared/Periodic.js';
import { within } from '../shared/closing.js';

/** How long a stop waits for the refresh, heartbeat, reconcile and intake passes under way. */
const STOP_WAIT_MS = 1000;

export interface ProducerOptions {
  connection: RedisConnection;
  prefix: string;
  bridgeDb: string;
  conversations: ConversationGrant[];
  role?: string | undefined;
  contextRoot: string;
  contextMaxBytes: number;
  pollIntervalMs: number;
  busyTimeoutMs: number;
  reconcileIntervalSec: number;
  /** Queued rows younger than this are left to the normal enqueue path by the periodic pass. */
  reconcileGraceMs: number;
  heartbeatIntervalSec: number;
  /** How often served conversations are re-read (new role conversations, expiry). */
  refreshIntervalMs: number;
  /** Bridge rows taken per transaction. */
  batchSize: number;
  /** Taking stops while the questions queue holds this many waiting jobs (--max-queued). */
  maxQueued: number;
  answerConcurrency: number;
  /** Spans of each question's take, enqueue and answer write (NO_TRACING when off). */
  tracing?: Tracing;
}

/**
 * The bridge side of autopoll, the role that answers on the bridge file (through src/bridge):
 * watches for questions, takes them into the ledger, enqueues them, writes the answers back, and
 * keeps the ledger and Redis in agreement.
 */
export class Producer extends EventEmitter<ProducerEvents> {
  readonly db: Db;
  readonly questions: Queue;
  readonly answers: Queue;
  private readonly ledger: Ledger;
  private readonly writer: BridgeWriter;
  private readonly registry: ConversationRegistry;
  private readonly intake: Intake;
  private readonly watcher: BridgeWatcher;
  private readonly answerWriter: AnswerWriter;
  private readonly reconciler: Reconciler;
  private readonly heartbeat: Heartbeat;
  private readonly presence: Presence<ProducerInfo>;
  private readonly backpressure: Backpressure;
  private readonly periodic = new Periodic((err) => this.stopping.signal.aborted || this.logger.error({ err }, 'periodic producer task failed; will run again'));
  private readonly stopping = new AbortController();
  private lostBecause: string | undefined;
  private readonly refresher: ConversationRefresher;

  /** Opens (or creates) the bridge file and adds autopoll's tables, then builds the producer. */
  static async open(options: ProducerOptions, logger: Logger): Promise<Producer> {
    const { db, created } = openBridgeDatabase(options.bridgeDb, { busyTimeoutMs: options.busyTimeoutMs });
    if (created) logger.info({ bridgeDb: options.bridgeDb }, 'bridge file did not exist; created it with the bridge schema');
    let bridgeId: string;
    try {
      bridgeId = await retryBusy('create autopoll tables', logger, () => ensureAutopollSchema(db));
    } catch (err) {
      db.close();
      throw err;
    }
    return new Producer(db, bridgeId, options, logger);
  }

  private constructor(
    db: Db,
    /** The bridge file's identity: in every job's data and id, and in this producer's presence. */
    readonly bridgeId: string,
    private readonly options: ProducerOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.db = db;
    const tracing = options.tracing ?? NO_TRACING;
    const queueOpts = { connection: options.connection, prefix: options.prefix, telemetry: tracing.bullmq };
    this.questions = new Queue(QUESTIONS_QUEUE, { ...queueOpts, defaultJobOptions: JOB_RETENTION });
    this.answers = new Queue(ANSWERS_QUEUE, { ...queueOpts, defaultJobOptions: ANSWER_JOB_OPTIONS });
    this.questions.on('error', (err) => logger.debug({ err }, 'questions queue connection error'));
    this.answers.on('error', (err) => logger.debug({ err }, 'answers queue connection error'));
    this.ledger = new Ledger(db);
    this.writer = new BridgeWriter(db);
    this.registry = new ConversationRegistry(db, options.conversations, options.role, logger);
    const contexts = new ContextReader(options.contextRoot, options.contextMaxBytes, ownedFiles(options.bridgeDb), (contextFile, contextRoot) =>
      // The path comes from the asker: redacted like any bridge text before it reaches a log line.
      logger.warn({ contextFile: redactText(contextFile).slice(0, 300), contextRoot }, 'a context_file does not exist under the context root (only the first is logged): if the files are elsewhere, pass --context-root (env AUTOPOLL_CONTEXT_ROOT) with a folder holding only the files to share'),
    );
    this.watcher = new BridgeWatcher(db, { path: options.bridgeDb, pollIntervalMs: options.pollIntervalMs, onChange: () => this.bridgeChanged(), onLost: (why) => this.lose(why) }, logger);
    const { connection, prefix, answerConcurrency: concurrency } = options;
    this.answerWriter = new AnswerWriter(db, this.ledger, this.writer, logger, { connection, prefix, concurrency, bridgeId, tracing });
    this.answerWriter.on('written', (e) => this.emit('written', e));
    this.answerWriter.on('dropped', (e) => this.emit('dropped', e));
    this.reconciler = new Reconciler(
      this.ledger, this.questions, this.answers,
      (row) => this.intake.rebuild(row), (jobs) => this.intake.enqueue(jobs), logger,
      { graceMs: options.reconcileGraceMs, pageSize: 500, bridgeId, stopping: this.stopping.signal },
    );
    this.heartbeat = new Heartbeat(db, this.ledger, () => this.registry.ids(), logger);
    const startedAt = Date.now();
    this.presence = new Presence(options.connection, options.prefix, PRODUCERS, () => ({
      name: hostPid(),
      host: hostname(),
      pid: process.pid,
      bridgeDb: resolve(options.bridgeDb),
      bridgeId,
      role: options.role ?? null,
      conversations: this.registry.expiries(),
      backpressure: this.backpressure.engaged,
      startedAt,
    }));
    this.backpressure = new Backpressure(() => this.waitingCount(), { maxQueued: options.maxQueued, recheckMs: 500, freshMs: 100 }, logger);
    this.backpressure.on('changed', (e) => {
      this.emit('backpressure', e);
      void this.presence.publish();
    });
    const taker = new MessageTaker(db, this.ledger, this.writer, logger, bridgeId);
    this.intake = new Intake(
      {
        db, registry: this.registry, contexts, taker, backpressure: this.backpressure, questions: this.questions, tracing,
        index: (jobs) => indexQuestions(options.connection, options.prefix, jobs),
      },
      { bridgeId, batchSize: options.batchSize, stopping: this.stopping.signal, busy: (what, fn) => this.busy(what, fn), onTaken: (e) => this.emit('taken', e) },
      logger,
    );
    this.refresher = new ConversationRefresher({
      registry: this.registry, takeBacklog: (id) => this.intake.takeBacklog(id), beat: (ids) => this.beat(ids),
      announce: () => void this.presence.publish(), stopping: this.stopping.signal,
    }, logger);
  }

  /**
   * Waiting questions, or undefined when Redis does not answer within a second (down, or its loss
   * not noticed yet): backpressure then lets the take go on to wait in its enqueue.
   */
  private async waitingCount(): Promise<number | undefined> {
    if (isDown(this.options.connection)) return undefined;
    const count = this.questions.getWaitingCount();
    return Promise.race([count, sleep(1000, undefined, { ref: false }).then(() => undefined)]);
  }

  /** The `answers` worker, for readiness probes. */
  get answersWorker(): Worker {
    return this.answerWriter.worker;
  }

  /** Whether questions of this conversation are being taken (granted and valid, or of the role). */
  serves(conversationId: string): boolean {
    return this.registry.isServed(conversationId);
  }

  get bridgeDbPath(): string {
    return this.options.bridgeDb;
  }

  /**
   * Starts watching and answering. Throws NothingToServeError, having started nothing (close()
   * the producer then), when it has no role and none of its conversations can be served.
   */
  async start(stopping?: AbortSignal): Promise<void> {
    const { connection, prefix, bridgeDb } = this.options;
    await refuseSharedPrefix(this.presence, { connection, prefix, bridgeDb, bridgeId: this.bridgeId }, this.logger, stopping);
    this.intake.startAtTop();
    let added: string[] | undefined;
    try {
      added = this.registry.refresh();
    } catch (err) {
      // Not knowing what it serves is no proof that it serves nothing: it starts, and retries.
      this.logger.error({ err }, REFRESH_FAILED);
    }
    if (added !== undefined && this.registry.ids().length === 0 && !this.options.role) throw new NothingToServeError(this.registry.refusals(), this.options.bridgeDb);
    // Not awaited, like the reconcile below: taking a backlog enqueues, which waits for Redis,
    // and the producer must start (answer writer, heartbeat) while Redis is down.
    void this.refresher.serve(added ?? []);
    this.answerWriter.start();
    this.watcher.start();
    this.intake.pump();
    void this.reconcile(0);
    this.periodic.every(this.options.refreshIntervalMs, async () => this.refresher.refresh());
    this.periodic.every(this.options.heartbeatIntervalSec * 1000, () => this.beat());
    this.periodic.every(this.options.reconcileIntervalSec * 1000, () => this.reconcile());
    this.presence.start();
    this.logger.info({ bridgeDb: this.options.bridgeDb, conversations: this.registry.ids().length, role: this.options.role }, 'producer started');
  }

  /**
   * The bridge file at the path is no longer the one open: stops taking and writing (every write
   * checks the file too, so none reaches the orphan meanwhile) and tells the process to exit.
   */
  private lose(reason: string): void {
    if (this.lostBecause !== undefined) return;
    this.lostBecause = reason;
    this.stopping.abort();
    this.watcher.stop();
    void this.periodic.stop();
    void this.intake.stop();
    this.answerWriter.worker.pause(true).catch(() => undefined);
    this.logger.error({ bridgeDb: this.options.bridgeDb, bridgeId: this.bridgeId, reason }, `bridge file lost: ${reason}; the producer stops taking and writing and exits`);
    this.emit('lost', reason);
  }

  async close(timeoutMs = 10_000): Promise<void> {
    this.stopping.abort();
    await this.presence.stop();
    this.watcher.stop();
    // Their bridge waits end with `stopping`; what is left past a moment waits on Redis (down), and
    // fails quietly once the file is closed (stopping).
    await within(Promise.all([this.periodic.stop(), this.intake.stop(), this.refresher.settled()]), STOP_WAIT_MS);
    await this.answerWriter.close(timeoutMs);
    await Promise.all([this.questions.close(), this.answers.close()]);
    this.db.close();
    this.logger.info('producer stopped');
  }

  /** Runs the reconciler once now (on start with no grace, then periodically). */
  async reconcile(graceMs?: number): Promise<ReconcileReport | undefined> {
    try {
      return await this.reconciler.run(graceMs);
    } catch (err) {
      if (!this.stopping.signal.aborted) this.logger.error({ err }, 'reconciler pass failed; the next one will try again');
      return undefined;
    }
  }

  /** Another process committed: new questions, maybe a new conversation. */
  private bridgeChanged(): void {
    this.refresher.changed();
    this.intake.pump();
  }

  private async beat(only?: string[]): Promise<void> {
    await this.busy('heartbeat', () => runImmediate(this.db, () => this.heartbeat.beat(only)));
  }

  private busy<T>(what: string, fn: () => T): Promise<T> {
    return retryBusy(what, this.logger, fn, this.stopping.signal);
  }
}
