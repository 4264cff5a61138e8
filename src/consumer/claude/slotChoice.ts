/**
 * The pool's decisions about its slots, kept pure: which slot a question takes, which closed ones
 * start ahead of the next questions, and whether an idle one may close.
 */

export interface SlotView {
  /** closed: no process; open: a session started or starting; closing: an idle one on its way out. */
  state: 'closed' | 'open' | 'closing';
  busy: boolean;
  /** The bridge conversation whose context the session holds, if any. */
  holds: string | undefined;
  /** Its session is clearing after its last answer: a question given it would wait for the /clear. */
  clearing: boolean;
}

/**
 * A free session, preferring the one that holds the conversation, then a clear one already
 * cleared, then one still clearing; none free, a closed slot to open for the question (`opens`);
 * none of either, undefined: the question waits.
 */
export function chooseSlot<S extends SlotView>(slots: readonly S[], conversationId: string): { slot: S; opens: boolean } | undefined {
  const free = slots.filter((s) => s.state === 'open' && !s.busy);
  const pick = free.find((s) => s.holds === conversationId) ?? free.find((s) => s.holds === undefined && !s.clearing) ?? free.find((s) => s.holds === undefined) ?? free[0];
  if (pick) return { slot: pick, opens: false };
  const closed = slots.find((s) => s.state === 'closed');
  return closed && { slot: closed, opens: true };
}

/** The closed slots to start so that `spare` sessions are free (started or starting), as far as there are closed slots. */
export function sparesToOpen<S extends SlotView>(slots: readonly S[], spare: number): S[] {
  const free = slots.filter((s) => s.state === 'open' && !s.busy).length;
  return slots.filter((s) => s.state === 'closed').slice(0, Math.max(0, spare - free));
}

/** An idle session may close while more than the minimum are open (closing ones already left the count). */
export function mayCloseIdle(slots: readonly SlotView[], minSessions: number): boolean {
  return slots.filter((s) => s.state === 'open').length > minSessions;
}
