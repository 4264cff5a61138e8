import type { Queue } from 'bullmq';
import type { AnswerJob } from '../shared/jobs.js';
import { answerJobId } from '../shared/queues.js';

interface Pending {
  job: AnswerJob;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Puts answers on the `answers` queue. Answers finished in the same tick share one `addBulk`:
 * one round trip and one socket write instead of one per answer.
 */
export class AnswerSender {
  private pending: Pending[] = [];

  constructor(private readonly answers: Queue) {}

  send(job: AnswerJob): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ job, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      await this.answers.addBulk(
        batch.map(({ job }) => {
          const kind = job.outcome.kind;
          return { name: kind, data: job, opts: { jobId: answerJobId(job.questionJobId, kind) } };
        }),
      );
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
