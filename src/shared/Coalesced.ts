/**
 * Runs `fn` now or, while a run is under way, once more after it: the calls in between fold into
 * that one run. For work that reads the latest state (the bridge's new rows, its conversations),
 * where a burst of triggers needs one look after the last of them, not one look each. `fn` handles
 * its own errors: a rejection here would be unhandled.
 */
export class Coalesced {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly fn: () => Promise<void>) {}

  run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.fn().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.run();
      }
    });
  }

  /** Ends when the run under way does (a run it queued then starts, and is not waited for). */
  async settled(): Promise<void> {
    await this.running;
  }
}
