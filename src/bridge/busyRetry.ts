import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.js';

export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/**
 * Runs a SQLite write, retrying SQLITE_BUSY for as long as another process holds the lock.
 * The busy timeout blocks the event loop, so it is kept short and the waiting is done here,
 * asynchronously, where timers and Redis lock renewals keep running.
 */
export async function retryBusy<T>(what: string, logger: Logger, fn: () => T, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      if (!isBusyError(err) || signal?.aborted) throw err;
      // Short waits are normal while the bridge's own clients write; a long one is worth a warning.
      if (attempt === 20 || attempt % 100 === 0) {
        logger.warn({ attempt, what }, 'bridge database is locked by another process; retrying');
      }
      await sleep(Math.min(25 * attempt, 500));
    }
  }
}
