/**
 * The benchmarks' side `a` of the bridge: questions inserted as fast as the bench can, answers
 * counted incrementally, on the clock the producer stamps rows with.
 */
import type { BridgeFixture, Conversation } from '../test/support/bridge.js';
import { waitFor, type Guard } from '../test/support/wait.js';
import { nowMicros } from '../src/bridge/timestamp.js';

/** Wall-clock milliseconds with a sub-millisecond fraction, on the same clock the producer stamps rows with. */
export function nowMs(): number {
  return nowMicros() / 1000;
}

/**
 * Counts side b's answer rows in the conversation after a mark (a message id). Incremental: each
 * poll reads only the rows committed since the previous one (a rowid range), so watching a run
 * costs the bench almost nothing however many answers there already are.
 */
export class AnswerCounter {
  private readonly newRows;
  private readonly top;
  private cursor = 0;
  /** Answer ids seen so far with their timestamps, in id order. */
  private seen: Array<{ id: number; timestamp: string }> = [];

  constructor(private readonly bridge: BridgeFixture, private readonly conv: Conversation, private readonly guard: readonly Guard[]) {
    this.newRows = bridge.db.prepare<[string, number], { id: number; b: number; timestamp: string }>(
      "SELECT id, (conversation_id = ? AND from_session = 'b') AS b, timestamp FROM messages WHERE id > ? ORDER BY id",
    );
    this.top = bridge.db.prepare<[], number | null>('SELECT MAX(id) FROM messages').pluck();
    this.cursor = this.mark();
  }

  mark(): number {
    return this.top.get() ?? 0;
  }

  /** Answers with an id above `after`: how many, and the latest timestamp among them. */
  count(after: number): { n: number; last: string | null } {
    for (const r of this.newRows.all(this.conv.id, this.cursor)) {
      this.cursor = r.id;
      if (r.b) this.seen.push({ id: r.id, timestamp: r.timestamp });
    }
    let n = 0;
    let last: string | null = null;
    for (let i = this.seen.length - 1; i >= 0 && this.seen[i]!.id > after; i--) {
      n++;
      if (last === null || this.seen[i]!.timestamp > last) last = this.seen[i]!.timestamp;
    }
    return { n, last };
  }

  async waitFor(after: number, n: number, timeoutMs: number): Promise<{ n: number; last: string }> {
    return waitFor(`${n} answers in the bridge`, () => {
      const c = this.count(after);
      return c.n >= n && c.last ? { n: c.n, last: c.last } : undefined;
    }, { timeoutMs, everyMs: 20, guard: this.guard });
  }

  get db() {
    return this.bridge.db;
  }
}

/**
 * Inserts `n` questions as side `a`, `batch` to a transaction, as fast as the bench can. It yields
 * to the event loop between transactions (a few µs), so that a Ctrl-C is handled: tsx SIGKILLs a
 * child that does not acknowledge a signal within 30 ms, and then nothing would be cleaned up.
 * Query ids are `<tag>_<i>` for i from `from`.
 */
export async function insertMany(bridge: BridgeFixture, conv: Conversation, tag: string, n: number, batch: number, from = 0): Promise<void> {
  for (let start = from; start < from + n; start += batch) {
    bridge.db.transaction(() => {
      for (let i = start; i < Math.min(from + n, start + batch); i++) bridge.ask(conv.id, `${tag}_${i}`, `Question ${i} of ${tag}: what changed?`);
    }).immediate();
    await new Promise((r) => setImmediate(r));
  }
}
