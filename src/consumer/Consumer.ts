import type { Worker } from 'bullmq';
import { hostname } from 'node:os';
import { CONSUMERS, type ConsumerInfo } from '../shared/ConsumerPresence.js';
import { hostPid, Presence } from '../shared/Presence.js';
import type { Logger } from '../shared/logger.js';
import type { EventSource, QuestionWorkerEvents, SessionPoolEvents } from '../shared/roleEvents.js';
import { FatalAnswererError, type Answerer } from './Answerer.js';
import { QuestionWorker, type QuestionWorkerOptions } from './QuestionWorker.js';

export type ConsumerOptions = Omit<QuestionWorkerOptions, 'name'> & { name?: string | undefined };

/** A consumer's name when none is given: unique per process, and says where to look. */
export function defaultConsumerName(): string {
  return hostPid();
}

/**
 * A consumer: an answerer (its sessions) behind a BullMQ worker, visible to the fleet. Needs only
 * Redis. One whose answerer cannot work here (no usable credentials) stays up, stopped: it takes
 * no questions, and its presence and readiness say why, until it is restarted.
 */
export class Consumer {
  readonly worker: QuestionWorker;
  readonly name: string;
  private readonly presence: Presence<ConsumerInfo>;
  private readonly startedAt = Date.now();
  private closing = false;

  constructor(
    readonly answerer: Answerer,
    private readonly options: ConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.name = options.name ?? defaultConsumerName();
    this.worker = new QuestionWorker(answerer, { ...options, name: this.name }, logger);
    this.presence = new Presence(options.connection, options.prefix, CONSUMERS, () => ({
      name: this.name,
      host: hostname(),
      pid: process.pid,
      answerer: answerer.llmType,
      sessions: options.concurrency,
      maxSessions: options.concurrency,
      // Only where sessions come and go: the others run all of theirs, and status shows just the one figure.
      ...(answerer.liveSessions ? { liveSessions: answerer.liveSessions() } : {}),
      sessionPids: answerer.sessionPids(),
      busy: this.worker.busy,
      startedAt: this.startedAt,
      ...(this.stoppedBecause === undefined ? { state: 'running' as const } : { state: 'stopped' as const, reason: this.stoppedBecause }),
    }));
    this.worker.on('halted', () => void this.presence.publish());
    // The fleet sees a session open or close at once, not at the next heartbeat.
    let published = answerer.liveSessions?.();
    answerer.sessionEvents?.on('sessions', ({ live }) => {
      if (live === published) return;
      published = live;
      void this.presence.publish();
    });
  }

  /** Why this consumer takes no questions; undefined while it takes them. */
  get stoppedBecause(): string | undefined {
    return this.worker.haltedBecause;
  }

  /** Questions answered and attempts failed, for metrics. */
  get answerEvents(): EventSource<QuestionWorkerEvents> {
    return this.worker;
  }

  /** The answerer's sessions replaced, when it has sessions. */
  get sessionEvents(): EventSource<SessionPoolEvents> | undefined {
    return this.answerer.sessionEvents;
  }

  /** BullMQ's worker on `questions`: its job starts, and whether it runs. */
  get jobs(): Worker {
    return this.worker.worker;
  }

  /** Questions answered at once at most: one per session. */
  get concurrency(): number {
    return this.options.concurrency;
  }

  /** Questions being answered right now. */
  get busy(): number {
    return this.worker.busy;
  }

  async start(stopping?: AbortSignal): Promise<void> {
    try {
      await this.answerer.start(stopping);
    } catch (err) {
      if (!(err instanceof FatalAnswererError)) throw err;
      this.worker.halt(err.message);
    }
    if (this.stoppedBecause === undefined) this.worker.start();
    this.presence.start();
    void this.announce();
  }

  /**
   * Logs "consumer started" once Redis answers: until then it takes nothing (the connection's
   * outage line says why). Not awaited by start, so that a SIGTERM meanwhile stops it as usual.
   */
  private async announce(): Promise<void> {
    try {
      await this.options.connection.ping();
    } catch {
      return; // closed before Redis ever answered
    }
    if (this.closing || this.stoppedBecause !== undefined) return;
    this.logger.info({ answerer: this.answerer.llmType, name: this.name }, 'consumer started');
  }

  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    await this.presence.stop();
    await this.worker.close(timeoutMs);
    await this.answerer.close();
    this.logger.info('consumer stopped');
  }
}
