import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { unlessStopped } from '../../shared/closing.js';
import type { Logger } from '../../shared/logger.js';
import type { ReplaceReason, SessionCounts, SessionPoolEvents } from '../../shared/roleEvents.js';
import { SessionStartError, type AnswerContext } from '../Answerer.js';
import type { ClaudeSession } from './ClaudeSession.js';
import { chooseSlot, mayCloseIdle, sparesToOpen, type SlotView } from './slotChoice.js';
import type { TurnOutput } from './turnObserver.js';

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

/** Free sessions kept started ahead of the next question: a burst also opens one per question that finds none free. */
const SPARE_SESSIONS = 1;

const NO_SESSION: Promise<ClaudeSession> = Promise.resolve(undefined as never); // the `ready` of a slot without a session

export interface PoolTurn extends TurnOutput {
  sessionId: string;
  sessionPid: number | undefined;
  slot: number;
}

interface Slot extends SlotView {
  index: number;
  /** Closes the slot once it has been idle for --session-idle-timeout. */
  idle: NodeJS.Timeout | undefined;
  /** Settles once a closing slot's session is gone. */
  shut: Promise<void>;
  session: ClaudeSession | undefined;
  ready: Promise<ClaudeSession>;
  failures: number;
  /** The session while it warms up: what close kills rather than waits for. */
  starting: ClaudeSession | undefined;
}

/**
 * Up to N slots, each one long-lived Claude Code session. The minimum are started up front so the
 * first question does not pay the start; more open as questions come (one for each question that
 * finds no free session, and a spare ahead of the next) and close after an idle timeout: an idle
 * Claude Code process costs CPU and memory. A slot whose process exits is restarted (with backoff
 * if it keeps dying), one that served enough turns or grew too much context is recycled, and no slot ever
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
      this.slots.push({ index, state: 'closed', idle: undefined, shut: Promise.resolve(), session: undefined, ready: NO_SESSION, busy: false, holds: undefined, failures: 0, starting: undefined, clearing: false });
    }
    const warm = this.slots.slice(0, this.minSessions);
    for (const slot of warm) this.open(slot);
    await Promise.all(warm.map((s) => s.ready));
  }

  /** Sessions started or starting (live), in a turn (busy), and the most there may be. */
  counts(): SessionCounts {
    return { live: this.slots.filter((s) => s.state === 'open').length, busy: this.slots.filter((s) => s.busy).length, max: this.options.size };
  }

  async run(conversationId: string, prompt: string, watch: Pick<AnswerContext, 'log' | 'progress' | 'stopping'>): Promise<PoolTurn> {
    const slot = await this.acquire(conversationId);
    try {
      const ready = slot.ready;
      const session = await unlessStopped(ready, watch.stopping).catch((err: unknown) => {
        // This question gets the failure (or a shutdown ended its wait); the slot a new start (after its backoff), unless the failed process's exit began one.
        if (slot.ready === ready && !this.closing && !watch.stopping?.aborted) this.setReady(slot, this.launch(slot));
        throw new SessionStartError(`Claude Code did not start: ${(err as Error).message}`);
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
      this.idleLater(slot);
      this.waiters.shift()?.();
      this.report();
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
        clearTimeout(slot.idle);
        slot.starting?.kill();
        const session = await slot.ready.catch(() => undefined);
        slot.session = undefined;
        await Promise.all([session?.close(), slot.shut]);
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

  /**
   * A free session, preferring the one that holds the conversation; none free, a closed slot is
   * opened for the question (which waits for its start, not counted in its turn timeout), and a
   * spare starts ahead of the next one.
   */
  private acquire(conversationId: string): Promise<Slot> {
    const choice = chooseSlot(this.slots, conversationId);
    if (choice && !(choice.opens && this.closing)) {
      const { slot } = choice;
      if (choice.opens) this.open(slot);
      slot.busy = true;
      clearTimeout(slot.idle);
      if (!this.closing) for (const spare of sparesToOpen(this.slots, SPARE_SESSIONS)) this.open(spare);
      this.report();
      return Promise.resolve(slot);
    }
    return new Promise<void>((r) => this.waiters.push(r)).then(() => this.acquire(conversationId));
  }

  private get minSessions(): number {
    return Math.min(this.options.minSessions ?? this.options.size, this.options.size);
  }

  private open(slot: Slot): void {
    slot.state = 'open';
    this.setReady(slot, this.launch(slot));
  }

  /** Closes the slot's session once it has had no turn for the idle timeout, unless that leaves fewer than the minimum. */
  private idleLater(slot: Slot): void {
    const ms = this.options.idleTimeoutMs;
    if (ms === undefined || this.closing || slot.busy) return;
    clearTimeout(slot.idle);
    slot.idle = setTimeout(() => this.closeIdle(slot), ms).unref();
  }

  private closeIdle(slot: Slot): void {
    if (this.closing || slot.busy || slot.state !== 'open' || !mayCloseIdle(this.slots, this.minSessions)) return;
    this.logger.info({ slot: slot.index, sessionId: slot.session?.id, idleMs: this.options.idleTimeoutMs }, 'closing an idle Claude Code session');
    slot.state = 'closing';
    slot.shut = (async () => {
      slot.starting?.kill();
      const session = await slot.ready.catch(() => undefined);
      slot.session = undefined;
      slot.holds = undefined;
      await session?.close();
    })().finally(() => {
      slot.state = 'closed';
      slot.ready = NO_SESSION;
      this.report();
      this.waiters.shift()?.();
    });
    this.report();
  }

  private report(): void {
    this.emit('sessions', this.counts());
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
    if (slot.state !== 'open') throw new Error('the session slot was closed while idle');
    const session = this.createSession();
    slot.session = session;
    slot.holds = undefined;
    session.once('exit', () => {
      if (this.closing || slot.session !== session || slot.state !== 'open') return;
      slot.failures++;
      slot.session = undefined;
      this.emit('sessionReplaced', { slot: slot.index, reason: 'exit' });
      this.setReady(slot, this.launch(slot));
    });
    slot.starting = session;
    try {
      await session.warm(this.options.startTimeoutMs);
    } catch (err) {
      if (slot.session === session) slot.session = undefined; // detached: its exit starts no second replacement beside run's
      session.kill();
      // Killed because its slot closed while idle: no failure of the session's own.
      if (slot.state !== 'open') throw err;
      slot.failures++;
      this.emit('sessionReplaced', { slot: slot.index, reason: 'start_failed' });
      throw err;
    } finally {
      slot.starting = undefined;
    }
    this.emit('sessionStarted', { slot: slot.index, sessionId: session.id, pid: session.pid });
    this.idleLater(slot);
    this.report();
    return session;
  }
}
