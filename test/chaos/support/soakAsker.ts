import { setTimeout as sleep } from 'node:timers/promises';
import type { BridgeFixture, Conversation } from '../../support/bridge.js';
import type { Guard } from '../../support/wait.js';

/** Side `a`: asks in transactions, counts side b's answers incrementally (a rowid cursor). */
export class Asker {
  asked = 0;
  answered = 0;
  /** The asker's own write transactions (subtracted from the commit count). */
  commits = 0;
  readonly queryIds: string[] = [];
  readonly messageIds: number[] = [];
  private cursor: number;
  private readonly top;
  private readonly answersIn;

  constructor(private readonly bridge: BridgeFixture, private readonly conv: Conversation, private readonly tag: string) {
    this.top = bridge.db.prepare<[], number | null>('SELECT MAX(id) FROM messages').pluck();
    this.answersIn = bridge.db
      .prepare<[number, number, string], number>("SELECT COUNT(*) FROM messages WHERE id > ? AND id <= ? AND conversation_id = ? AND from_session = 'b'")
      .pluck();
    this.cursor = this.top.get() ?? 0;
  }

  ask(n: number): void {
    this.bridge.db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const queryId = `${this.tag}_${this.asked + i}`;
        this.queryIds.push(queryId);
        this.messageIds.push(this.bridge.ask(this.conv.id, queryId, `Soak question ${this.asked + i}: where is the retry policy defined?`));
      }
    }).immediate();
    this.asked += n;
    this.commits++;
  }

  poll(): number {
    const top = this.top.get() ?? 0;
    if (top > this.cursor) {
      this.answered += this.answersIn.get(this.cursor, top, this.conv.id)!;
      this.cursor = top;
    }
    return this.answered;
  }

  /**
   * Asks `n` questions at `ratePerSec` (Infinity: as fast as they are answered), never more than
   * `outstanding` unanswered, and waits for all the answers.
   */
  async run(n: number, o: { ratePerSec: number; outstanding: number; insertBatch: number; timeLimitSec: number; guard: readonly Guard[]; onTick?: () => void }): Promise<void> {
    const t0 = performance.now();
    let nextTick = 0;
    while (this.poll() < n) {
      for (const p of o.guard) p.assertRunning();
      const elapsed = performance.now() - t0;
      if (elapsed > o.timeLimitSec * 1000) throw new Error(`only ${this.answered} of ${n} questions answered after ${o.timeLimitSec} s`);
      if (elapsed > nextTick) {
        o.onTick?.();
        nextTick = elapsed + 1000;
      }
      const due = Number.isFinite(o.ratePerSec) ? Math.floor((elapsed / 1000) * o.ratePerSec) + 1 : n;
      const room = Math.min(n - this.asked, due - this.asked, o.outstanding - (this.asked - this.answered));
      if (room > 0) this.ask(Math.min(room, o.insertBatch));
      // Yield: the sampler's timer runs in this process too.
      await sleep(room >= o.insertBatch ? 1 : 10);
    }
  }
}
