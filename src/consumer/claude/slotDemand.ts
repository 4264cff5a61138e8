import { SessionStartError } from '../Answerer.js';
import { chooseSlot, spareWanted, type Demand, type SlotView } from './slotChoice.js';

/**
 * The pool's questions waiting for a session, in the order they came, and how concurrent its
 * demand was lately: what its slot decisions (slotChoice.ts) need to know about the questions.
 */
export class SlotDemand<S extends SlotView> {
  private readonly queue: Array<{ conversationId: string; take: (slot: S) => void }> = [];
  /** When two or more questions were last in the pool at once: the spare is kept for a while after. */
  private lastConcurrentAt = -Infinity;

  constructor(
    private readonly slots: readonly S[],
    private readonly minSessions: number,
    /** How long concurrency keeps the spare: the idle timeout; none, for good. */
    private readonly windowMs = Infinity,
  ) {}

  /**
   * The slot the question gets once `serve` finds it one; `stopping` aborted first (a shutdown),
   * the question leaves the queue at once and rejects, so that it is handed back unspent.
   */
  wait(conversationId: string, stopping: AbortSignal | undefined): Promise<S> {
    return new Promise((take, reject) => {
      const stop = (): void => {
        this.queue.splice(this.queue.indexOf(entry), 1);
        reject(new SessionStartError('no Claude Code session was free: the consumer is shutting down'));
      };
      const entry = { conversationId, take: (slot: S) => (stopping?.removeEventListener('abort', stop), take(slot)) };
      this.queue.push(entry);
      if (stopping?.aborted) stop();
      else stopping?.addEventListener('abort', stop, { once: true });
    });
  }

  /** Gives usable sessions (chooseSlot) to waiting questions in order; `claim` marks each busy. */
  serve(claim: (slot: S) => void): void {
    for (let slot; this.queue.length > 0 && (slot = chooseSlot(this.slots, this.queue[0]!.conversationId)); ) {
      claim(slot);
      this.queue.shift()!.take(slot);
    }
    this.note();
  }

  /** Called before a slot is freed too: a demand of two lasts until one of them ends. */
  note(): void {
    if (this.slots.filter((s) => s.busy).length + this.queue.length >= 2) this.lastConcurrentAt = Date.now();
  }

  now(): Omit<Demand, 'maxStarts'> {
    return { waiting: this.queue.length, spare: spareWanted(Date.now() - this.lastConcurrentAt, this.windowMs), minSessions: this.minSessions };
  }
}
