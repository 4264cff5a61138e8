/** Failed attempts allowed per minute: from one address, and from all of them together. */
export const LOGIN_LIMITS = { perAddress: 5, overall: 30, windowMs: 60_000 };

/**
 * Counts failed token attempts (login form and Bearer header) in one fixed window that starts at
 * the first failure. An address over its limit, or everyone once the failures from all addresses
 * pass theirs (a guesser with many addresses, or one choosing its own X-Forwarded-For behind
 * --trust-proxy true), waits for the window to end, right token or not: otherwise guessing would go
 * on. Memory stays bounded: nothing is counted once the overall limit is reached, and the window's
 * end forgets everything.
 */
export class LoginThrottle {
  private failures = new Map<string, number>();
  private total = 0;
  private windowEnd = 0;

  constructor(
    private readonly limits = LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds this address must wait before its next attempt; 0 when it may try now. */
  retryAfter(address: string): number {
    this.expire();
    const blocked = this.total >= this.limits.overall || (this.failures.get(address) ?? 0) >= this.limits.perAddress;
    return blocked ? Math.max(1, Math.ceil((this.windowEnd - this.now()) / 1000)) : 0;
  }

  fail(address: string): void {
    this.expire();
    if (this.total === 0) this.windowEnd = this.now() + this.limits.windowMs;
    this.total += 1;
    this.failures.set(address, (this.failures.get(address) ?? 0) + 1);
  }

  private expire(): void {
    if (this.total > 0 && this.now() >= this.windowEnd) {
      this.failures = new Map();
      this.total = 0;
    }
  }
}
