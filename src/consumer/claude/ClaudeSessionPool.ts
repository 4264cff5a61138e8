import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/logger.js';
import type { ReplaceReason, SessionPoolEvents } from '../../shared/roleEvents.js';
import { AnswerError, type AnswerContext } from '../Answerer.js';
import type { ClaudeSession } from './ClaudeSession.js';
import type { TurnOutput } from './turnObserver.js';

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

interface Slot {
  index: number;
  session: ClaudeSession | undefined;
  ready: Promise<ClaudeSession>;
  busy: boolean;
  /** The bridge conversation whose context the session holds, if any. */
  holds: string | undefined;
  failures: number;
  /** The session while it warms up: what close kills rather than waits for. */
  starting: ClaudeSession | undefined;
  /** Its session is clearing after its last answer. */
  clearing: boolean;
}

/**
 * N slots, each one long-lived Claude Code session, all started up front so the first question
 * does not pay the start. A slot whose process exits is restarted (with backoff if it keeps
 * dying), one that served enough turns or grew too much context is recycled, and no slot ever
 * carries one bridge conversation's context into another's question.
 */
export class ClaudeSessionPool extends EventEmitter<SessionPoolEvents> {
  private readonly slots: Slot[] = [];
  private readonly waiters: Array<() => void> = [];
  private closing = false;
  /** Aborted by close: ends the backoff a slot waits before its next start. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly createSession: () => ClaudeSession,
    private readonly options: ClaudeSessionPoolOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    for (let index = 0; index < this.options.size; index++) {
      const slot: Slot = { index, session: undefined, ready: Promise.resolve(undefined as never), busy: false, holds: undefined, failures: 0, starting: undefined, clearing: false };
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
      watch.log(`session ${session.id} (pid ${session.pid}, slot ${slot.index}, turn ${session.turns + 1})`);
      watch.progress({ stage: 'asking', sessionId: session.id, sessionPid: session.pid, slot: slot.index });
      const out = await this.turnOn(slot, session, conversationId, prompt);
      slot.failures = 0;
      slot.holds = conversationId;
      this.afterTurn(slot, session);
      return { ...out, sessionId: session.id, sessionPid: session.pid, slot: slot.index };
    } finally {
      slot.busy = false;
      this.waiters.shift()?.();
    }
  }

  /**
   * Finishes nothing new; closes every process (the worker has already drained its turns). Bounded
   * by the sessions' close grace: a session still warming up (which may take a minute) is killed
   * with its process group, a slot waiting out a backoff starts nothing, and start() then rejects.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.stopping.abort();
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.starting?.kill();
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

  /**
   * The question's turn, after a /clear if the session holds another conversation. A turn (or
   * /clear) that did not succeed leaves its text in the session, and an interrupted one may still
   * be draining: the next question, of any conversation, would be sent on top of it, and a
   * question the API refused for what it says would be refused again with it. The session is
   * replaced, with --session-memory conversation too: the conversation's memory goes with it,
   * so its retry is sent once, on a session that never saw the failed try.
   */
  private async turnOn(slot: Slot, session: ClaudeSession, conversationId: string, prompt: string): Promise<TurnOutput> {
    try {
      if (slot.holds !== undefined && slot.holds !== conversationId) {
        await session.clear();
        slot.holds = undefined;
      }
      return await session.turn(prompt, this.options.turnTimeoutMs);
    } catch (err) {
      this.replace(slot, session, 'failed_turn');
      throw err;
    }
  }

  private afterTurn(slot: Slot, session: ClaudeSession): void {
    const o = this.options;
    if (session.turns >= o.maxTurnsPerSession || session.contextTokens >= o.maxContextTokens) {
      this.logger.info({ slot: slot.index, sessionId: session.id, turns: session.turns, contextTokens: session.contextTokens }, 'recycling Claude Code session');
      this.replace(slot, session, 'recycle');
    } else if (o.memory === 'none') {
      // Cleared now, while the slot is free, so the next question does not wait for it; a /clear
      // that failed left the last question in place: the session is replaced instead.
      slot.holds = undefined;
      slot.clearing = true;
      const cleared: Promise<ClaudeSession> = session.clear().finally(() => (slot.clearing = false)).then(
        () => session,
        (err: unknown) => {
          this.replace(slot, session, 'failed_clear');
          // The replacement (or the one its exit began) is the slot's next session; closing, none.
          if (slot.ready === cleared) throw err;
          return slot.ready;
        },
      );
      this.setReady(slot, cleared);
    }
  }

  /**
   * Closes the slot's session and starts a new one in its place: the new one carries nothing of
   * the old one's questions. Once only per session: a session whose process exited is already
   * being replaced by the exit handler, and a pool that is closing starts nothing.
   */
  private replace(slot: Slot, session: ClaudeSession, reason: ReplaceReason): void {
    if (this.closing || slot.session !== session) return;
    this.logger.info({ slot: slot.index, sessionId: session.id, reason }, 'replacing the Claude Code session');
    slot.holds = undefined;
    slot.session = undefined;
    this.emit('sessionReplaced', { slot: slot.index, reason });
    this.setReady(slot, session.close().then(() => this.launch(slot)));
  }

  private acquire(conversationId: string): Promise<Slot> {
    const free = this.slots.filter((s) => !s.busy);
    // A slot still clearing after its last answer is taken last: the question would wait for its /clear.
    const pick = free.find((s) => s.holds === conversationId) ?? free.find((s) => s.holds === undefined && !s.clearing) ?? free.find((s) => s.holds === undefined) ?? free[0];
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
    if (!this.closing && slot.failures > 0) await sleep(Math.min(500 * 2 ** (slot.failures - 1), 30_000), undefined, { signal: this.stopping.signal }).catch(() => undefined);
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
    slot.starting = session;
    try {
      await session.warm(this.options.startTimeoutMs);
    } catch (err) {
      slot.failures++;
      session.kill();
      this.emit('sessionReplaced', { slot: slot.index, reason: 'start_failed' });
      throw err;
    } finally {
      slot.starting = undefined;
    }
    this.emit('sessionStarted', { slot: slot.index, sessionId: session.id, pid: session.pid });
    return session;
  }
}
