import type { EventEmitter } from 'node:events';

/**
 * The events each role reports, declared here so that readers (metrics, the operator server,
 * tests) depend on the events and not on the classes that emit them.
 */

/** What the producer reports. */
export interface ProducerEvents {
  /** Messages taken off the bridge: queued as questions, or rejected with a reason. */
  taken: [{ queued: number; rejected: number }];
  /** A response reached the bridge; `seconds` from the take to the write. */
  written: [{ state: 'answered' | 'failed'; seconds: number }];
  dropped: [{ reason: string }];
  /** Taking stopped (engaged) or resumed, with the waiting count that decided it. */
  backpressure: [{ engaged: boolean; waiting: number }];
  /** The bridge file was replaced or deleted: the producer stopped taking and writing, for good. */
  lost: [reason: string];
}

/** What a consumer's question worker reports. */
export interface QuestionWorkerEvents {
  answered: [{ ms: number; attempt: number; usage?: { inputTokens?: number; outputTokens?: number; costUsd?: number } | undefined }];
  attemptFailed: [{ kind: string; final: boolean }];
  /** It takes no more questions (until the consumer is restarted): as each question it had leaves, so that `busy` follows. */
  halted: [reason: string];
}

export type ReplaceReason = 'exit' | 'recycle' | 'start_failed' | 'failed_turn' | 'failed_clear';

/** A pool's sessions: started or starting, in a turn, and the most it may run (--sessions). */
export interface SessionCounts {
  live: number;
  busy: number;
  max: number;
}

/** What a pool of Claude Code sessions reports. */
export interface SessionPoolEvents {
  /** Its counts, whenever a session opens, closes, takes a question or frees up. */
  sessions: [counts: SessionCounts];
  sessionStarted: [info: { slot: number; sessionId: string; pid: number | undefined }];
  sessionReplaced: [info: { slot: number; reason: ReplaceReason }];
}

/** The listening half of an emitter of `E`: all a reader of its events is given. */
export type EventSource<E extends Record<keyof E, unknown[]>> = Pick<EventEmitter<E>, 'on' | 'once' | 'off'>;
