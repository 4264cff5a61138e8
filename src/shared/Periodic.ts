/**
 * Tasks run every so often: one run of each at a time (a slow run is not stacked), none once
 * stopped, and stop() waits for the runs under way, so none touches what its owner closes next.
 */
export class Periodic {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  /** `onError` hears a run's failure; the task runs again at its next tick. */
  constructor(private readonly onError: (err: unknown) => void) {}

  every(ms: number, fn: () => Promise<unknown>): void {
    let run: Promise<void> | undefined;
    this.timers.push(setInterval(() => {
      if (run || this.stopped) return;
      // Through a promise: a task that throws at once is a failure like any other, not an uncaught throw.
      const current = Promise.resolve().then(fn).then(() => undefined, this.onError);
      run = current;
      this.running.add(current);
      void current.finally(() => {
        this.running.delete(current);
        run = undefined;
      });
    }, ms));
  }

  /** No more runs; ends once the runs under way have. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.running);
  }
}
