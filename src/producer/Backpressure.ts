import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.js';

export interface BackpressureOptions {
  /** --max-queued: taking stops while the questions queue holds this many waiting jobs. */
  maxQueued: number;
  /** While engaged, how often the queue is looked at again. */
  recheckMs: number;
  /** While well below the limit, a count this recent is trusted (plus what was taken since). */
  freshMs: number;
}

export interface BackpressureEvents {
  changed: [{ engaged: boolean; waiting: number }];
}

/**
 * Holds the producer's taking while the questions queue is full, so a stopped consumer fleet
 * leaves the questions unread in the bridge rather than piling them up in Redis. Redis is asked
 * at most every `freshMs` while far from the limit: the fast path costs no round trip.
 */
export class Backpressure extends EventEmitter<BackpressureEvents> {
  engaged = false;
  private checkedAt = 0;
  private estimate = 0;

  /**
   * `waitingCount` gives undefined while Redis is unreachable: the batch is admitted then, since
   * its enqueue waits for Redis anyway (one batch, taken and held, as before backpressure).
   */
  constructor(
    private readonly waitingCount: () => Promise<number | undefined>,
    private readonly options: BackpressureOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  /**
   * How many of `n` questions may be taken now (at least 1, once the queue has room): waits while
   * it is full; rejects when `signal` aborts the wait.
   */
  async admit(n: number, signal: AbortSignal): Promise<number> {
    const { maxQueued, recheckMs, freshMs } = this.options;
    if (n === 0) return 0;
    if (!this.engaged && Date.now() - this.checkedAt < freshMs && this.estimate + n <= maxQueued) {
      this.estimate += n;
      return n;
    }
    for (;;) {
      const waiting = await this.waitingCount();
      if (waiting === undefined) return n;
      this.checkedAt = Date.now();
      this.estimate = waiting;
      if (waiting < maxQueued) {
        if (this.engaged) this.set(false, waiting, 'questions queue below --max-queued again; taking questions from the bridge');
        const room = Math.min(n, maxQueued - waiting);
        this.estimate += room;
        return room;
      }
      if (!this.engaged) this.set(true, waiting, 'questions queue full (--max-queued): new questions stay unread in the bridge until consumers catch up');
      await sleep(recheckMs, undefined, { signal });
    }
  }

  private set(engaged: boolean, waiting: number, message: string): void {
    this.engaged = engaged;
    this.logger[engaged ? 'warn' : 'info']({ waiting, maxQueued: this.options.maxQueued }, message);
    this.emit('changed', { engaged, waiting });
  }
}

/** The verdicts up to the one that would take question number `room + 1`: refusals cost no room. */
export function withinRoom<V extends { accept: boolean }>(verdicts: V[], room: number): V[] {
  let accepted = 0;
  const end = verdicts.findIndex((v) => v.accept && ++accepted > room);
  return end < 0 ? verdicts : verdicts.slice(0, end);
}
