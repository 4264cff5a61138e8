/** How a Claude phase stops: the run being stopped (Ctrl-C, watchdog), or a wait outliving its deadline. */

/** Thrown once the run is being stopped: the phases stop starting work. */
class Stopped extends Error {}

export function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw new Stopped('the run is being stopped');
}

export class DeadlineError extends Error {}

export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new DeadlineError(`timed out after ${ms} ms waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
