import type { TurnOutput } from './turnObserver.js';

// What the session pool is told (ClaudeSessionPool), and what a question's turn on it gives back.

export type SessionMemory = 'none' | 'conversation';

export interface ClaudeSessionPoolOptions {
  /** The most sessions at once (--sessions). */
  size: number;
  /** Sessions kept warm with no question (--min-sessions); default: size, a fixed pool. */
  minSessions?: number;
  /** A session beyond the minimum closes after this long without a turn (--session-idle-timeout); default: never. */
  idleTimeoutMs?: number;
  turnTimeoutMs: number;
  /** A session is replaced after this many turns... */
  maxTurnsPerSession: number;
  /** ...or once a turn was sent with more context than this. */
  maxContextTokens: number;
  /** none: every question starts a fresh conversation; conversation: follow-ups of one bridge conversation share it. */
  memory: SessionMemory;
  startTimeoutMs: number;
}

export interface PoolTurn extends TurnOutput {
  sessionId: string;
  sessionPid: number | undefined;
  slot: number;
}
