import type { QuestionJob } from '../shared/jobs.js';
import type { EventSource, SessionPoolEvents } from '../shared/roleEvents.js';

export interface AnswerContext {
  /** 1 for the first try; counts every start, including one a crashed consumer never finished. */
  attempt: number;
  /** A replay: the question already got an error response, and an operator asked again. */
  replay: boolean;
  signal: AbortSignal;
  /**
   * The consumer is shutting down: what has not begun (a wait for a session to start) gives up, so
   * that the question is handed back at once; a turn under way goes on. Absent: never.
   */
  stopping?: AbortSignal;
  /** A line for the job's log in the board. */
  log: (line: string) => void;
  /** The job's progress in the board (which session has it); for answerers slow enough to watch. */
  progress: (value: Record<string, unknown>) => void;
}

export interface AnswerResult {
  answer: string;
  sources: string[];
  model?: string;
  sessionId?: string;
  /** The process that answered, for logs (not sent to the asker). */
  sessionPid?: number;
  usage?: { inputTokens?: number; outputTokens?: number; costUsd?: number };
}

/** What a consumer asks to answer a question. Implementations: stub (tests, benchmarks) and claude. */
export interface Answerer {
  /** Reported to askers as the response's `llm_type`. */
  readonly llmType: string;
  /** `stopping` aborted (a shutdown signal): give up starting, leave nothing running, reject. */
  start(stopping?: AbortSignal): Promise<void>;
  answer(question: QuestionJob, context: AnswerContext): Promise<AnswerResult>;
  /** The live session processes, for `autopoll status`; none for answerers without processes. */
  sessionPids(): number[];
  /** Sessions started or starting, for answerers whose sessions come and go (absent: all of them run). */
  liveSessions?(): number;
  /** Its sessions' starts and replacements, for answerers with sessions. */
  readonly sessionEvents?: EventSource<SessionPoolEvents>;
  close(): Promise<void>;
}

/**
 * A failure the answerer understands. `retryable` false ends the question at once with an
 * error response; true lets the worker try again with backoff.
 */
export class AnswerError extends Error {
  override readonly name: string = 'AnswerError';
  /** Secrets were redacted out of the message (the bridge's audit row of its error response says so). */
  redacted = false;

  constructor(
    readonly kind: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** A failure that should back the question off (growing waits, up to --max-defer) rather than spend its attempts. */
export class RateLimitedError extends AnswerError {
  override readonly name: string = 'RateLimitedError';
  readonly rateLimited = true;
  constructor(
    message: string,
    /** How long the API asked to wait, when it said (the next try waits at least this). */
    readonly retryAfterMs?: number,
  ) {
    super('rate_limited', message, true);
  }
}

/** What answers (a Claude Code session) did not start: the question was never sent to the API. */
export class SessionStartError extends AnswerError {
  override readonly name: string = 'SessionStartError';
  constructor(message: string) {
    super('session_start_failed', message, true);
  }
}

/** A failure no retry can fix on this consumer: it must stop taking questions. */
export class FatalAnswererError extends AnswerError {
  override readonly name: string = 'FatalAnswererError';
  readonly fatal = true;
  constructor(
    kind: string,
    message: string,
    /** The API's HTTP status that showed it (401, 403), when one did. */
    readonly httpStatus?: number,
  ) {
    super(kind, message, false);
  }
}
