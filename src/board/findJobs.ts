import type { Queue } from 'bullmq';
import { findEntries, type FindEntry } from '../shared/findIndex.js';
import { answerJobCandidates } from '../shared/queues.js';
import type { RedisConnection } from '../shared/redis.js';

/**
 * One job a search found: the question's ids, where the job is, its state now, its Bull Board
 * page. A question rejected at take is one row with no job: queue, job id and url null.
 */
export interface FoundJob {
  queryId: string | null;
  messageId: number;
  conversationId: string;
  queue: string | null;
  jobId: string | null;
  /** BullMQ's state (waiting, active, delayed, completed, failed, ...), `gone` once removed, or `rejected`. */
  state: string;
  url: string | null;
}

/** Bull Board's page of a job (its UI route /queue/:name/:jobId), under the board's base `/`. */
export function jobUrl(queue: string, jobId: string): string {
  return `/queue/${encodeURIComponent(queue)}/${encodeURIComponent(jobId)}`;
}

function priorAttempts(data: unknown): number {
  const value = (data as { priorAttempts?: unknown } | null)?.priorAttempts;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}

async function jobsOf(e: FindEntry, queues: { questions: Queue; answers: Queue }): Promise<FoundJob[]> {
  const ids = { queryId: e.queryId, messageId: e.messageId, conversationId: e.conversationId };
  if (e.jobId === null) return [{ ...ids, queue: null, jobId: null, state: 'rejected', url: null }];
  const row = (queue: Queue, jobId: string, state: string): FoundJob => ({
    ...ids, queue: queue.name, jobId, state: state === 'unknown' ? 'gone' : state, url: jobUrl(queue.name, jobId),
  });
  const question = await queues.questions.getJob(e.jobId);
  const state = question ? await question.getState() : 'unknown';
  const candidates = answerJobCandidates(e.jobId, priorAttempts(question?.data));
  const answers = await Promise.all(candidates.map(async ({ id }) => ({ id, state: await queues.answers.getJobState(id) })));
  // A question job is listed gone or not; an answer job only while it is there (most rounds have none).
  return [row(queues.questions, e.jobId, state), ...answers.filter((a) => a.state !== 'unknown').map((a) => row(queues.answers, a.id, a.state))];
}

/** What `GET /find?q=` lists: the index's questions for `q`, newest first, each with its answer and error jobs. */
export async function findJobs(redis: RedisConnection, prefix: string, queues: { questions: Queue; answers: Queue }, q: string): Promise<FoundJob[]> {
  const entries = await findEntries(redis, prefix, q);
  return (await Promise.all(entries.map((e) => jobsOf(e, queues)))).flat();
}
