import { hostname } from 'node:os';
import { CONSUMERS, type ConsumerInfo } from '../shared/ConsumerPresence.js';
import { hostPid, Presence } from '../shared/Presence.js';
import type { Logger } from '../shared/logger.js';
import type { Answerer } from './Answerer.js';
import { QuestionWorker, type QuestionWorkerOptions } from './QuestionWorker.js';

export type ConsumerOptions = Omit<QuestionWorkerOptions, 'name'> & { name?: string | undefined };

/** A consumer's name when none is given: unique per process, and says where to look. */
export function defaultConsumerName(): string {
  return hostPid();
}

/** A consumer: an answerer (its sessions) behind a BullMQ worker, visible to the fleet. Needs only Redis. */
export class Consumer {
  readonly worker: QuestionWorker;
  readonly name: string;
  private readonly presence: Presence<ConsumerInfo>;
  private readonly startedAt = Date.now();

  constructor(
    readonly answerer: Answerer,
    options: ConsumerOptions,
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
      sessionPids: answerer.sessionPids(),
      busy: this.worker.busy,
      startedAt: this.startedAt,
    }));
  }

  async start(): Promise<void> {
    await this.answerer.start();
    this.worker.start();
    this.presence.start();
    this.logger.info({ answerer: this.answerer.llmType, name: this.name }, 'consumer started');
  }

  async close(timeoutMs: number): Promise<void> {
    await this.presence.stop();
    await this.worker.close(timeoutMs);
    await this.answerer.close();
    this.logger.info('consumer stopped');
  }
}
