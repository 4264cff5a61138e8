import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/logger.js';
import { AnswerError, type AnswerContext } from '../Answerer.js';
import type { ClaudeSession, TurnOutput } from './ClaudeSession.js';

export type SessionMemory = 'none' | 'conversation';

export interface ClaudeSessionPoolOptions {
  size: number;
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

export interface PoolEvents {
  sessionStarted: [info: { slot: number; sessionId: string; pid: number | undefined }];
  sessionReplaced: [info: { slot: number; reason: 'exit' | 'recycle' | 'start_failed' | 'failed_turn' }];
}

interface Slot {
  index: number;
  session: ClaudeSession | undefined;
  ready: Promise<ClaudeSession>;
  busy: boolean;
  /** The bridge conversation whose context the session holds, if any. */
  holds: string | undefined;
  failures: number;
}

/**
 * N slots, each one long-lived Claude Code session, all started up front so the first question
 * does not pay the start. A slot whose process exits is restarted (with backoff if it keeps
 * dying), one that served enough turns or grew too much context is recycled, and no slot ever
 * carries one bridge conversation's context into another's question.
 */
export class ClaudeSessionPool extends EventEmitter<PoolEvents> {
  private readonly slots: Slot[] = [];
  private readonly waiters: Array<() => void> = [];
  private closing = false;

  constructor(
    private readonly createSession: () => ClaudeSession,
    private readonly options: ClaudeSessionPoolOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    for (let index = 0; index < this.options.size; index++) {
      const slot: Slot = { index, session: undefined, ready: Promise.resolve(undefined as never), busy: false, holds: undefined, failures: 0 };
      this.setReady(slot, this.launch(slot));
      this.slots.push(slot);
    }
    await Promise.all(this.slots.map((s) => s.ready));
  }

  async run(conversationId: string, prompt: string, watch: Pick<AnswerContext, 'log' | 'progress'>): Promise<PoolTurn> {
    const slot = await this.acquire(conversationId);
    try {
      const ready = slot.ready;
      const session = await ready.catch((err: unknown) => {
        // This question gets the failure; the next one on the slot a new start (after its backoff),
        // unless the failed process's exit has already begun one. A slot never stays dead.
        if (slot.ready === ready && !this.closing) this.setReady(slot, this.launch(slot));
        throw new AnswerError('session_start_failed', `Claude Code did not start: ${(err as Error).message}`, true);
      });
      if (slot.holds !== undefined && slot.holds !== conversationId) {
        await session.clear();
        slot.holds = undefined;
      }
      watch.log(`session ${session.id} (pid ${session.pid}, slot ${slot.index}, turn ${session.turns + 1})`);
      watch.progress({ stage: 'asking', sessionId: session.id, sessionPid: session.pid, slot: slot.index });
      const out = await session.turn(prompt, this.options.turnTimeoutMs).catch((err: unknown) => {
        this.afterFailedTurn(slot, session);
        throw err;
      });
      slot.failures = 0;
      slot.holds = conversationId;
      this.afterTurn(slot, session);
      return { ...out, sessionId: session.id, sessionPid: session.pid, slot: slot.index };
    } finally {
      slot.busy = false;
      this.waiters.shift()?.();
    }
  }

  /** Finishes nothing new; closes every process (the worker has already drained its turns). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const session = await slot.ready.catch(() => undefined);
        slot.session = undefined;
        await session?.close();
      }),
    );
  }

  /** Pids of the live session processes, for tests and status. */
  pids(): number[] {
    return this.slots.map((s) => s.session?.pid).filter((p): p is number => p !== undefined);
  }

  private afterTurn(slot: Slot, session: ClaudeSession): void {
    const o = this.options;
    if (session.turns >= o.maxTurnsPerSession || session.contextTokens >= o.maxContextTokens) {
      this.logger.info({ slot: slot.index, sessionId: session.id, turns: session.turns, contextTokens: session.contextTokens }, 'recycling Claude Code session');
      slot.holds = undefined;
      slot.session = undefined;
      this.emit('sessionReplaced', { slot: slot.index, reason: 'recycle' });
      this.setReady(slot, session.close().then(() => this.launch(slot)));
    } else if (o.memory === 'none') {
      // Cleared now, while the slot is free, so the next question does not wait for it.
      slot.holds = undefined;
      this.setReady(
        slot,
        session.clear().then(
          () => session,
          () => this.launch(slot),
        ),
      );
    }
  }

  /**
   * A failed turn leaves its question in the session (and an interrupted one may still be
   * draining): the next question, of any conversation, would be sent on top of it, and a question
   * the API refused for what it says would be refused again with it. The session is replaced.
   */
  private afterFailedTurn(slot: Slot, session: ClaudeSession): void {
    // Closing: nothing new starts. Its process exited: the exit handler is already starting the replacement.
    if (this.closing || slot.session !== session) return;
    this.logger.info({ slot: slot.index, sessionId: session.id }, 'replacing the Claude Code session of a failed turn');
    slot.holds = undefined;
    slot.session = undefined;
    this.emit('sessionReplaced', { slot: slot.index, reason: 'failed_turn' });
    this.setReady(slot, session.close().then(() => this.launch(slot)));
  }

  private acquire(conversationId: string): Promise<Slot> {
    const free = this.slots.filter((s) => !s.busy);
    const pick = free.find((s) => s.holds === conversationId) ?? free.find((s) => s.holds === undefined) ?? free[0];
    if (pick) {
      pick.busy = true;
      return Promise.resolve(pick);
    }
    return new Promise<void>((r) => this.waiters.push(r)).then(() => this.acquire(conversationId));
  }

  /**
   * The slot's next session. Its failure is the next question's on that slot (run awaits it); a
   * replacement that fails while the slot is idle, or one replaced again before anyone awaited it,
   * must not be an unhandled rejection, which ends the process.
   */
  private setReady(slot: Slot, ready: Promise<ClaudeSession>): void {
    slot.ready = ready;
    ready.catch(() => undefined);
  }

  private async launch(slot: Slot): Promise<ClaudeSession> {
    // Closing: a replacement would be started only to be closed, past the shutdown's deadline.
    if (!this.closing && slot.failures > 0) await sleep(Math.min(500 * 2 ** (slot.failures - 1), 30_000));
    if (this.closing) throw new Error('the Claude session pool is closing');
    const session = this.createSession();
    slot.session = session;
    slot.holds = undefined;
    session.once('exit', () => {
      if (this.closing || slot.session !== session) return;
      slot.failures++;
      slot.session = undefined;
      this.emit('sessionReplaced', { slot: slot.index, reason: 'exit' });
      this.setReady(slot, this.launch(slot));
    });
    try {
      await session.warm(this.options.startTimeoutMs);
    } catch (err) {
      slot.failures++;
      session.kill();
      this.emit('sessionReplaced', { slot: slot.index, reason: 'start_failed' });
      throw err;
    }
    this.emit('sessionStarted', { slot: slot.index, sessionId: session.id, pid: session.pid });
    return session;
  }
}
