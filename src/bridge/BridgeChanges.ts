import type { Logger } from '../shared/logger.js';
import { isBusyError } from './busyRetry.js';
import { BridgeWatcher } from './BridgeWatcher.js';
import type { Db } from './openBridge.js';

/** Why a wait ended without what it waited for. */
export type WaitEnd = 'deadline' | 'aborted';

export class BridgeLostError extends Error {
  override readonly name = 'BridgeLostError';
}

interface Waiter {
  look: () => boolean;
  abort: () => void;
}

/**
 * Waits on the bridge the way the producer does, for any number of callers at once: one
 * BridgeWatcher (the folder watched, `PRAGMA data_version`, a fallback poll) and, on each commit of
 * another process, every waiter's look run again. Nobody sleeps in a loop of their own.
 */
export class BridgeChanges {
  private readonly watcher: BridgeWatcher;
  private readonly waiters = new Set<Waiter>();
  private lost: string | undefined;
  private stopped = false;

  constructor(db: Db, options: { path: string; pollIntervalMs: number }, logger: Logger) {
    this.watcher = new BridgeWatcher(db, { ...options, onChange: () => this.lookAll(), onLost: (why) => this.lose(why) }, logger);
  }

  start(): void {
    this.watcher.start();
  }

  /** Stops watching; every wait ends now as if aborted, and so does any later one. */
  stop(): void {
    this.watcher.stop();
    this.stopped = true;
    for (const waiter of [...this.waiters]) waiter.abort();
  }

  /** Why the bridge file can no longer be used, once it cannot. */
  get lostBecause(): string | undefined {
    return this.lost;
  }

  /**
   * `look()` now and after every change until it gives a value, `untilMs` (epoch ms) passes or
   * `signal` aborts. Rejects with BridgeLostError when the file is replaced or deleted meanwhile.
   */
  waitFor<T>(look: () => T | undefined, untilMs: number, signal?: AbortSignal): Promise<T | WaitEnd> {
    if (this.lost !== undefined) return Promise.reject(new BridgeLostError(this.lost));
    if (this.stopped) return Promise.resolve('aborted');
    const first = look();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise<T | WaitEnd>((resolve, reject) => {
      const end = (value: T | WaitEnd | Error) => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      const waiter: Waiter = {
        look: () => {
          if (this.lost !== undefined) {
            end(new BridgeLostError(this.lost));
            return true;
          }
          try {
            const found = look();
            if (found !== undefined) end(found);
            return found !== undefined;
          } catch (err) {
            // Locked for a moment (a checkpoint): the next change or poll looks again.
            if (isBusyError(err)) return false;
            end(err as Error);
            return true;
          }
        },
        abort: () => end('aborted'),
      };
      const onAbort = () => end('aborted');
      const timer = setTimeout(() => end('deadline'), Math.max(0, untilMs - Date.now()));
      if (signal?.aborted) return end('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  private lookAll(): void {
    for (const waiter of [...this.waiters]) waiter.look();
  }

  private lose(reason: string): void {
    this.lost ??= reason;
    this.lookAll();
  }
}
