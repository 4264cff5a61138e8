import type { Queue } from 'bullmq';
import type { AnswerJob } from '../shared/jobs.js';
import { answerJobId } from '../shared/queues.js';
import { TickBatcher } from '../shared/TickBatcher.js';

/** Puts answers on the `answers` queue; answers finished in the same tick share one `addBulk`. */
export class AnswerSender {
  private readonly batcher: TickBatcher<AnswerJob, undefined>;

  constructor(answers: Queue) {
    this.batcher = new TickBatcher(async (jobs) => {
      await answers.addBulk(jobs.map((job) => ({ name: job.outcome.kind, data: job, opts: { jobId: answerJobId(job.questionJobId, job.outcome.kind, job.round) } })));
      return jobs.map(() => undefined);
    });
  }

  async send(job: AnswerJob): Promise<void> {
    await this.batcher.submit(job);
  }
}
