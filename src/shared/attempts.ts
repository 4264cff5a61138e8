/**
 * Attempt accounting of a question job, read the same way by the consumer that runs it, the
 * producer's reconciler that answers for it, and the replay that runs it again.
 */

interface JobRuns {
  attemptsStarted: number;
  data: unknown;
}

function field(data: unknown, name: 'deferrals' | 'priorAttempts'): number {
  const value = (data as Record<string, unknown> | null)?.[name];
  return typeof value === 'number' ? value : 0;
}

/**
 * Tries a question job has used in its current round: every start counts (a consumer that died
 * mid-run spent one), except runs handed back unspent because of a rate limit (`deferrals`) and
 * the starts of earlier rounds (`priorAttempts`). moveToDelayed leaves attemptsMade alone, so
 * attemptsMade cannot count retries.
 */
export function attemptsSpent(job: JobRuns): number {
  return Math.max(1, job.attemptsStarted - field(job.data, 'deferrals') - field(job.data, 'priorAttempts'));
}

/**
 * What a new round starts from: a replay, after the earlier rounds' starts, with none of its own
 * hand-backs yet (a replay after the operator fixed what kept sessions from starting gets its
 * start-failure hand-backs again, not an attempt spent at the first one).
 */
interface RoundMarks {
  replay: true;
  priorAttempts: number;
  deferrals: 0;
  startFailures: 0;
}

export interface Run {
  attempt: number;
  /** Whether this run's answer may follow an error response the question already got. */
  replay: boolean;
  /** The round this run belongs to (its priorAttempts): answer job ids are per round. */
  round: number;
  /** Set when this run opens a new round: the marks to save in the job's data. */
  opens?: RoundMarks;
}

/**
 * Which try this run is. A run past the budget can only be an operator's retry of a job that
 * BullMQ failed itself (it stalled too often), so it opens a replay round of its own.
 */
export function runOf(job: JobRuns, budget: number): Run {
  const attempt = attemptsSpent(job);
  const round = field(job.data, 'priorAttempts');
  if (attempt <= budget) return { attempt, replay: (job.data as { replay?: unknown } | null)?.replay === true, round };
  const opens = { replay: true, priorAttempts: job.attemptsStarted - 1, deferrals: 0, startFailures: 0 } as const;
  return { attempt: 1, replay: true, round: opens.priorAttempts, opens };
}

/** The marks a job gets when its round ends in an error response: a later run of it is a replay. */
export function closingMarks(job: { attemptsStarted: number }): RoundMarks {
  return { replay: true, priorAttempts: job.attemptsStarted, deferrals: 0, startFailures: 0 };
}
