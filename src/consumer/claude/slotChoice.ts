/**
 * The pool's decisions about its slots, kept pure: which slot a waiting question takes, which
 * closed ones start, and whether an idle one may close.
 */

export interface SlotView {
  /** closed: no process; open: a session started or on its way; closing: an idle one on its way out. */
  state: 'closed' | 'open' | 'closing';
  busy: boolean;
  /** The bridge conversation whose context the session holds, if any. */
  holds: string | undefined;
  /** Its session is clearing after its last answer: a question given it would wait for the /clear. */
  clearing: boolean;
  /** Its session has started and is ready (perhaps clearing): a question given it waits at most a /clear. */
  warm: boolean;
  /** Its last start failed: a question given it gets that failure at once, and the slot a new start. */
  failed: boolean;
  /** It waits out the backoff after failed starts (up to 30 s): neither usable nor a start under way. */
  backingOff: boolean;
}

/** Open, neither warm nor failed nor backing off: its session is starting (or being replaced). */
const starting = (s: SlotView): boolean => s.state === 'open' && !s.warm && !s.failed && !s.backingOff;
/** Open and not backing off: a session that serves, or soon will. */
const serving = (s: SlotView): boolean => s.state === 'open' && !s.backingOff;

/**
 * The free session a waiting question takes now: the one that holds the conversation, then a warm
 * one already cleared, then one still clearing (a /clear: tens of ms), then one holding another
 * conversation (it clears first), then one whose start failed (the question gets the failure, so
 * failing starts do not leave questions waiting). A slot still starting is never taken: the
 * question waits and takes whichever session is usable first, a start it caused or one that frees.
 */
export function chooseSlot<S extends SlotView>(slots: readonly S[], conversationId: string): S | undefined {
  const free = slots.filter((s) => serving(s) && !s.busy && !starting(s));
  const warm = free.filter((s) => s.warm);
  return warm.find((s) => s.holds === conversationId) ?? warm.find((s) => s.holds === undefined && !s.clearing) ?? warm.find((s) => s.holds === undefined) ?? warm[0] ?? free[0];
}

/**
 * The most Claude Code starts at once: one per core. A start is a second or so of CPU; more at
 * once than cores only makes every one of them late (32 starts on 2 cores: all done after ~8 s,
 * against the first ones ready in under 1 s when started two at a time).
 */
export function maxConcurrentStarts(availableParallelism: number): number {
  return Math.max(1, availableParallelism);
}

/** Free sessions kept ahead of the next questions while demand is concurrent, so a burst does not pay a start per question. */
export const SPARE_SESSIONS = 1;

/**
 * The spare wanted now: one while two or more questions were in the pool at once within the last
 * idle timeout (`sinceConcurrentMs` ago), none otherwise. A trickle (one question at a time, however
 * far apart) is served by the warm minimum: a spare opened for each of its questions would only
 * idle out and be started again at the next (a start costs ~0.8 s of CPU), whatever the trickle's
 * period against the idle timeout. The first concurrent question of a burst pays one start.
 */
export function spareWanted(sinceConcurrentMs: number, windowMs: number): number {
  return sinceConcurrentMs < windowMs ? SPARE_SESSIONS : 0;
}

export interface Demand {
  /** Questions waiting for a session. */
  waiting: number;
  /** Free sessions to have ahead of the next questions (spareWanted). */
  spare: number;
  minSessions: number;
  maxStarts: number;
}

/** Open sessions the demand needs: the busy, the waiting and the spare, and never fewer than the minimum. */
const needed = (open: readonly SlotView[], d: Omit<Demand, 'maxStarts'>): number => Math.max(d.minSessions, open.filter((s) => s.busy).length + d.waiting + d.spare);

/**
 * The closed slots to start now: enough that the open ones (those backing off after failed starts
 * left out) cover the demand, as far as there are closed slots and no more than `maxStarts` are
 * starting at once; the rest start as earlier starts end.
 */
export function slotsToOpen<S extends SlotView>(slots: readonly S[], d: Demand): S[] {
  const open = slots.filter(serving);
  const room = d.maxStarts - slots.filter(starting).length;
  return slots.filter((s) => s.state === 'closed').slice(0, Math.max(0, Math.min(needed(open, d) - open.length, room)));
}

/**
 * An idle session may close while more are open than the demand needs (what slotsToOpen would
 * start again at once otherwise); busy slots count as needed, not as room to close. Closing ones
 * have already left the count, and slots backing off count as none: they serve nobody for a while.
 */
export function mayCloseIdle(slots: readonly SlotView[], d: Omit<Demand, 'maxStarts'>): boolean {
  const open = slots.filter(serving);
  return open.length > needed(open, d);
}
