/**
 * Samples something on an interval while a benchmark measures, one sample at a time: a tick that
 * comes while a sample is still running is skipped, and a sample that fails is dropped.
 */
export class Sampler {
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;

  constructor(private readonly everyMs: number, private readonly sample: () => Promise<void>) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.sampling) this.sampling = this.sample().catch(() => undefined).finally(() => (this.sampling = undefined));
    }, this.everyMs);
  }

  /** Stops sampling, and waits for the sample under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sampling;
  }
}
