import { Queue, type Job } from 'bullmq';
import type { RedisConnection } from '../../shared/redis.js';
import { ANSWERS_QUEUE, answerJobCandidates, QUESTIONS_QUEUE } from '../../shared/queues.js';
import type { AnswerJobFacts, QuestionJobFacts, RedisFacts } from './traceFacts.js';

/** The two queues of a deployment, read only. */
export class TraceQueues {
  private readonly questions: Queue;
  private readonly answers: Queue;

  constructor(connection: RedisConnection, prefix: string) {
    this.questions = new Queue(QUESTIONS_QUEUE, { connection, prefix });
    this.answers = new Queue(ANSWERS_QUEUE, { connection, prefix });
    for (const q of [this.questions, this.answers]) q.on('error', () => undefined); // the awaited reads reject instead
  }

  /**
   * The question job and the answer and error jobs of each round it may have had
   * (answerJobCandidates). Jobs that retention removed are simply absent.
   */
  async read(jobId: string, startsHint: number): Promise<RedisFacts> {
    const job = await this.questions.getJob(jobId);
    const questionJob = job ? await this.questionFacts(job) : undefined;
    // A round's id is its priorAttempts, at most the job's starts.
    const probes = answerJobCandidates(jobId, Math.max(startsHint, job?.attemptsStarted ?? 0));
    const found = await Promise.all(probes.map(async ({ kind, round, id }) => {
      const answer = await this.answers.getJob(id);
      return answer ? await answerFacts(answer, kind, round) : undefined;
    }));
    return { reached: true, questionJob, answerJobs: found.filter((f) => f !== undefined) };
  }

  async close(): Promise<void> {
    // The connection is the caller's: Queue.close leaves a connection it was given open.
    await Promise.all([this.questions.close(), this.answers.close()]);
  }

  private async questionFacts(job: Job): Promise<QuestionJobFacts> {
    const [state, { logs }] = await Promise.all([job.getState(), this.questions.getJobLogs(job.id!, 0, -1, true)]);
    return {
      id: job.id!,
      state,
      timestamp: job.timestamp,
      processedOn: job.processedOn,
      finishedOn: job.finishedOn,
      attemptsMade: job.attemptsMade,
      attemptsStarted: job.attemptsStarted,
      failedReason: job.failedReason || undefined,
      stacktrace: job.stacktrace ?? [],
      processedBy: job.processedBy,
      returnvalue: job.returnvalue,
      data: job.data,
      logs,
    };
  }
}

async function answerFacts(job: Job, kind: 'answer' | 'error', round: number): Promise<AnswerJobFacts> {
  return { id: job.id!, kind, round, state: await job.getState(), timestamp: job.timestamp, finishedOn: job.finishedOn, data: job.data };
}
