import type { Logger } from '../shared/logger.js';
import type { Answerer } from './Answerer.js';
import { QuestionWorker, type QuestionWorkerOptions } from './QuestionWorker.js';

/** A consumer: an answerer (its sessions) behind a BullMQ worker. Needs only Redis. */
export class Consumer {
  private readonly worker: QuestionWorker;

  constructor(
    private readonly answerer: Answerer,
    options: QuestionWorkerOptions,
    private readonly logger: Logger,
  ) {
    this.worker = new QuestionWorker(answerer, options, logger);
  }

  async start(): Promise<void> {
    await this.answerer.start();
    this.worker.start();
    this.logger.info({ answerer: this.answerer.llmType }, 'consumer started');
  }

  async close(timeoutMs: number): Promise<void> {
    await this.worker.close(timeoutMs);
    await this.answerer.close();
    this.logger.info('consumer stopped');
  }
}
