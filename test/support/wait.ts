import { setTimeout as sleep } from 'node:timers/promises';

/** What waitFor gives up on: tests and benchmarks tell a timeout apart from a failure by it. */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

/** A process a wait is pointless without: `assertRunning` throws once it has exited. */
export interface Guard {
  assertRunning(): void;
}

export interface WaitOptions {
  timeoutMs: number;
  everyMs?: number;
  /** Checked before each poll: a guard that has exited fails the wait at once, with its output. */
  guard?: readonly Guard[];
}

/**
 * Polls `check` until it returns a truthy value; fails with WaitTimeout naming `what` (and the
 * check's last error) after the timeout. `limit` is the timeout in ms, or the options.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, limit: number | WaitOptions = 20_000, everyMs = 20): Promise<NonNullable<T>> {
  const o: WaitOptions = typeof limit === 'number' ? { timeoutMs: limit, everyMs } : limit;
  const deadline = Date.now() + o.timeoutMs;
  let last: unknown;
  for (;;) {
    for (const g of o.guard ?? []) g.assertRunning();
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new WaitTimeout(`timed out after ${o.timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(o.everyMs ?? 20);
  }
}
