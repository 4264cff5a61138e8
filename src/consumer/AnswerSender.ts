import type { Queue } from 'bullmq';
import type { AnswerJob } from '../shared/jobs.js';
import { answerJobId } from '../shared/queues.js';
import { TickBatcher } from '../shared/TickBatcher.js';
import { jobTelemetry, type Tracing } from '../shared/tracing/telemetry.js';

/** Puts answers on the `answers` queue; answers finished in the same tick share one `addBulk`. */
export class AnswerSender {
  private readonly batcher: TickBatcher<{ job: AnswerJob; trace: string | undefined }, undefined>;

  constructor(
    answers: Queue,
    private readonly tracing: Tracing,
  ) {
    this.batcher = new TickBatcher(async (items) => {
      await answers.addBulk(items.map(({ job, trace }) => ({ name: job.outcome.kind, data: job, opts: { jobId: answerJobId(job.questionJobId, job.outcome.kind, job.round), ...jobTelemetry(trace) } })));
      return items.map(() => undefined);
    });
  }

  /** Sent from inside the question's job: its answer job carries that trace on (the batch's addBulk runs outside it). */
  async send(job: AnswerJob): Promise<void> {
    await this.batcher.submit({ job, trace: this.tracing.activeMetadata() });
  }
}
