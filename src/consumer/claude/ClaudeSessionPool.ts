import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { unlessStopped } from '../../shared/closing.js';
import type { Logger } from '../../shared/logger.js';
import type { ReplaceReason, SessionCounts, SessionPoolEvents } from '../../shared/roleEvents.js';
import { SessionStartError, type AnswerContext } from '../Answerer.js';
import type { ClaudeSession } from './ClaudeSession.js';
import { maxConcurrentStarts, mayCloseIdle, slotsToOpen, type SlotView } from './slotChoice.js';
import { SlotDemand } from './slotDemand.js';
import type { ClaudeSessionPoolOptions, PoolTurn } from './poolOptions.js';
import type { TurnOutput } from './turnObserver.js';

const NO_SESSION: Promise<ClaudeSession> = Promise.resolve(undefined as never); // the `ready` of a slot without a session

interface Slot extends SlotView {
  index: number;
  idle: NodeJS.Timeout | undefined; // closes the slot once it has been idle for --session-idle-timeout
  shut: Promise<void>; // settles once a closing slot's session is gone
  session: ClaudeSession | undefined;
  ready: Promise<ClaudeSession>;
  failures: number;
  /** The session while it warms up: what close kills rather than waits for. */
  starting: ClaudeSession | undefined;
}

/**
 * Up to N slots, each one long-lived Claude Code session. The minimum start up front; more open as
 * questions wait (slotChoice.ts) and close after an idle timeout: an idle Claude Code process costs
 * CPU and memory. A slot whose process exits is restarted (with backoff if it keeps dying), one that
 * served enough turns or grew too much context is recycled, and no slot ever carries one bridge
 * conversation's context into another's question.
 */
export class ClaudeSessionPool extends EventEmitter<SessionPoolEvents> {
  private readonly slots: Slot[] = [];
  private readonly minSessions: number;
  private readonly demand: SlotDemand<Slot>;
  private readonly maxStarts = maxConcurrentStarts(availableParallelism());
  private closing = false;
  /** Aborted by close: ends the backoff a slot waits before its next start. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly createSession: () => ClaudeSession,
    private readonly options: ClaudeSessionPoolOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.minSessions = Math.min(options.minSessions ?? options.size, options.size);
    this.demand = new SlotDemand(this.slots, this.minSessions, options.idleTimeoutMs);
  }

  async start(): Promise<void> {
    for (let index = 0; index < this.options.size; index++) this.slots.push({ index, state: 'closed', idle: undefined, shut: Promise.resolve(), session: undefined, ready: NO_SESSION, busy: false, holds: undefined, failures: 0, starting: undefined, clearing: false, warm: false, failed: false, backingOff: false });
    // The minimum, started at most maxStarts at a time (dispatch opens more as each is warm).
    for (let pending = this.slots.slice(0, this.minSessions); pending.length > 0; pending = pending.filter((s) => !s.warm)) {
      this.dispatch();
      await Promise.all(pending.filter((s) => s.state === 'open').map((s) => s.ready));
    }
  }

  /** Sessions started or starting (live), in a turn (busy), and the most there may be. */
  counts(): SessionCounts {
    return { live: this.slots.filter((s) => s.state === 'open').length, busy: this.slots.filter((s) => s.busy).length, max: this.options.size };
  }

  async run(conversationId: string, prompt: string, watch: Pick<AnswerContext, 'log' | 'progress' | 'stopping'>): Promise<PoolTurn> {
    const slot = await this.acquire(conversationId, watch.stopping);
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
      this.demand.note(); // before the release: a demand of two lasts until one of them ends
      slot.busy = false;
      this.idleLater(slot);
      this.dispatch();
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
        void slot.starting?.close(0); // killed at once, and logged as closed: not a process that died on its own
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
   * The question's turn, after a /clear if the session holds another conversation. A turn (or /clear)
   * that did not succeed leaves its text in the session (an interrupted one may still be draining):
   * the next question would be sent on top of it, and one the API refused for what it says refused
   * again. The session is replaced, with --session-memory conversation too (its memory goes with
   * it), so the retry is sent once, on a session that never saw the failed try.
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
    slot.warm = false;
    this.emit('sessionReplaced', { slot: slot.index, reason });
    this.setReady(slot, session.close().then(() => this.launch(slot)));
  }

  /** The question waits (not counted in its turn timeout) for the first usable session: a start or one that frees. */
  private acquire(conversationId: string, stopping: AbortSignal | undefined): Promise<Slot> {
    const slot = this.demand.wait(conversationId, stopping);
    this.dispatch();
    return slot;
  }

  /** Gives usable sessions to waiting questions in order, then starts what the demand needs. */
  private dispatch(): void {
    this.demand.serve((slot) => ((slot.busy = true), clearTimeout(slot.idle)));
    if (!this.closing) for (const slot of slotsToOpen(this.slots, { ...this.demand.now(), maxStarts: this.maxStarts })) this.open(slot);
    this.report();
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
    if (this.closing || slot.busy || slot.state !== 'open') return;
    if (!mayCloseIdle(this.slots, this.demand.now())) return this.idleLater(slot); // the demand may fall: look again later
    this.logger.info({ slot: slot.index, sessionId: slot.session?.id, idleMs: this.options.idleTimeoutMs }, 'closing an idle Claude Code session');
    slot.state = 'closing';
    slot.shut = (async () => {
      void slot.starting?.close(0);
      const session = await slot.ready.catch(() => undefined);
      slot.session = undefined;
      slot.holds = undefined;
      await session?.close();
    })().finally(() => {
      slot.state = 'closed';
      slot.ready = NO_SESSION;
      [slot.warm, slot.failures] = [false, 0]; // a reopen later is a new start, not a retry after failed ones: no backoff
      this.dispatch();
    });
    this.report();
  }

  private report(): void {
    this.emit('sessions', this.counts());
  }

  /**
   * The slot's next session. Its failure is the next question's on that slot (run awaits it); a
   * replacement that fails while the slot is idle, or one replaced again before anyone awaited it,
   * must not be an unhandled rejection, which ends the process. A failed start marks the slot
   * `failed`: a waiting question takes the failure (and the slot a new start).
   */
  private setReady(slot: Slot, ready: Promise<ClaudeSession>): void {
    slot.ready = ready;
    slot.failed = false;
    ready.catch(() => {
      if (slot.ready !== ready || slot.state !== 'open' || this.closing) return;
      slot.failed = true;
      this.dispatch();
      // No question waited to take the failure: the slot starts again after its backoff, not left dead.
      if (!slot.busy) this.setReady(slot, this.launch(slot));
    });
  }

  private async launch(slot: Slot): Promise<ClaudeSession> {
    slot.warm = false;
    // Closing: a replacement would be started only to be closed, past the shutdown's deadline.
    if (!this.closing && slot.failures > 0) {
      slot.backingOff = true;
      await sleep(Math.min(500 * 2 ** (slot.failures - 1), 30_000), undefined, { signal: this.stopping.signal }).catch(() => undefined);
      slot.backingOff = false;
    }
    if (this.closing) throw new Error('the Claude session pool is closing');
    if (slot.state !== 'open') throw new Error('the session slot was closed while idle');
    const session = this.createSession();
    slot.session = session;
    slot.holds = undefined;
    session.once('exit', () => {
      if (this.closing || slot.session !== session || slot.state !== 'open' || slot.starting === session) return; // starting: the failed start below marks the slot failed
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
    slot.warm = true;
    this.idleLater(slot);
    this.dispatch();
    return session;
  }
}
