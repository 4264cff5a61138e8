/**
 * Free wrong attempts per window (from one address, and from all together), then the pause between
 * two checks of one address's attempts: it starts at firstPauseMs and doubles with each further
 * failure of that address, up to maxPauseMs. An attempt that would wait longer than maxWaitMs for
 * its turn is refused unchecked. Memory stays bounded: addresses beyond maxAddresses are not
 * remembered (each attempt from one counts as its first), a limit only a guesser holding that many
 * addresses reaches.
 */
export const LOGIN_LIMITS = { perAddress: 5, overall: 30, windowMs: 60_000, firstPauseMs: 1_000, maxPauseMs: 8_000, maxWaitMs: 8_000, maxAddresses: 10_000 };

/** When an attempt's token may be checked: after waitMs, or never (429 after retryAfterSeconds). */
export type Admission = { waitMs: number } | { retryAfterSeconds: number };

/**
 * Bounds token guessing (login form and Bearer header) without ever refusing the right token to
 * an operator who is not guessing. A right token must be accepted whenever it is checked, so
 * what is bounded is how often an address gets its attempts checked, not how fast wrong ones are
 * answered (a guesser sending in parallel would otherwise learn the right guess at once).
 *
 * - Under the limits every attempt is checked at once.
 * - An address past its free failures gets one check per pause, in turn: an attempt waits for its
 *   turn (a right token then passes, a wrong one doubles the pause), and one that would wait past
 *   maxWaitMs is refused unchecked. Only that address waits: a guesser locks out nobody but
 *   whoever shares its address.
 * - Past the overall limit (a guesser with many addresses, or one naming its own X-Forwarded-For
 *   behind --trust-proxy true) every address is paced that way, but an address that has not
 *   failed gets its first attempt checked at once: the operator on another address, and the
 *   healthcheck that sends the token, are answered as usual. Such a guesser gains one check per
 *   pause per address it holds; refusing everyone instead would hand it a lockout of the board.
 *
 * One fixed window that starts at the first failure; its end forgets everything.
 */
export class LoginThrottle {
  private failures = new Map<string, number>();
  private nextCheck = new Map<string, number>();
  private total = 0;
  private windowEnd = 0;

  constructor(
    private readonly limits = LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes the attempt's turn: how long to wait before checking its token, or a refusal. */
  admit(address: string): Admission {
    this.expire();
    const failed = this.failures.get(address) ?? 0;
    if (failed < this.limits.perAddress && this.total < this.limits.overall) return { waitMs: 0 };
    const now = this.now();
    const turn = Math.max(now, this.nextCheck.get(address) ?? now);
    if (turn - now > this.limits.maxWaitMs) return { retryAfterSeconds: Math.ceil((turn - now) / 1000) };
    if (this.nextCheck.has(address) || this.nextCheck.size < this.limits.maxAddresses) {
      const excess = Math.max(0, failed - this.limits.perAddress);
      this.nextCheck.set(address, turn + Math.min(this.limits.maxPauseMs, this.limits.firstPauseMs * 2 ** excess));
    }
    return { waitMs: turn - now };
  }

  fail(address: string): void {
    this.expire();
    if (this.total === 0) this.windowEnd = this.now() + this.limits.windowMs;
    this.total += 1;
    if (this.failures.has(address) || this.failures.size < this.limits.maxAddresses) this.failures.set(address, (this.failures.get(address) ?? 0) + 1);
  }

  private expire(): void {
    if (this.total > 0 && this.now() >= this.windowEnd) {
      this.failures = new Map();
      this.nextCheck = new Map();
      this.total = 0;
    }
  }
}
