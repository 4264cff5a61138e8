/** Queue names and job ids shared by the producer and the consumers. */
export const QUESTIONS_QUEUE = 'questions';
export const ANSWERS_QUEUE = 'answers';

/**
 * BullMQ ids must not contain ':' nor be all digits; derived from the bridge file's identity and
 * the message id, so that two bridges' message ids never share a job. Ledger rows taken before
 * bridge identity keep their `m-<messageId>` ids: the ledger's job_id, not this, names a row's job.
 */
export function questionJobId(bridgeId: string, messageId: number): string {
  return `m-${bridgeId}-${messageId}`;
}

/**
 * The answer for a question job. Distinct ids for answers and errors let a replay's real answer
 * through; each replay round has its own, so an earlier round's dropped answer cannot shadow it.
 */
export function answerJobId(questionJobId: string, kind: 'answer' | 'error', round = 0): string {
  return `${kind === 'answer' ? 'a' : 'e'}-${questionJobId}${round > 0 ? `-r${round}` : ''}`;
}

/** Rounds looked at past the first: a question replayed more often shows its newest rounds' answers. */
const ROUNDS_PROBED = 100;

/**
 * The answer and error jobs a question job may have, by id: one pair per round, a round numbered by
 * the starts before it (its priorAttempts), so every number up to `lastRound` is a candidate; round
 * 0 and the newest ROUNDS_PROBED after it (the board's find and `trace` probe these).
 */
export function answerJobCandidates(questionJobId: string, lastRound: number): Array<{ kind: 'answer' | 'error'; round: number; id: string }> {
  const rounds = new Set([0]);
  for (let r = Math.max(1, lastRound - ROUNDS_PROBED + 1); r <= lastRound; r++) rounds.add(r);
  return [...rounds].flatMap((round) => (['answer', 'error'] as const).map((kind) => ({ kind, round, id: answerJobId(questionJobId, kind, round) })));
}

/** Finished jobs stay for the board to show, bounded so that Redis does not grow without end. */
export const JOB_RETENTION = {
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
};

/** Answer jobs retry on their own: the producer may be restarting or its bridge locked. */
export const ANSWER_JOB_OPTIONS = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 1000 },
  ...JOB_RETENTION,
};
