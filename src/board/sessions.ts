import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Board logins, with nothing stored per session: a cookie is `<expiry in ms>.<HMAC of the expiry>` under a
 * secret made at start and replaced at every logout. Replacing it ends every session issued before
 * (a stolen cookie too), and so does a restart; an expired cookie proves nothing even when a browser
 * kept it past its Max-Age.
 */
export class BoardSessions {
  private secret = randomBytes(32);

  constructor(
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session's cookie value. */
  issue(): string {
    // In milliseconds: an expiry floored to the second cut --session-ttl 2 to 1-2 s.
    const expires = this.now() + this.ttlSeconds * 1000;
    return `${expires}.${this.sign(expires)}`;
  }

  valid(value: string | undefined): boolean {
    const parts = /^(\d{1,15})\.([0-9a-f]{64})$/.exec(value ?? '');
    if (!parts) return false;
    const expires = Number(parts[1]);
    if (expires <= this.now()) return false;
    return timingSafeEqual(Buffer.from(parts[2]!, 'hex'), Buffer.from(this.sign(expires), 'hex'));
  }

  /** Logout: every cookie issued so far stops working, in every browser. */
  revokeAll(): void {
    this.secret = randomBytes(32);
  }

  private sign(expires: number): string {
    return createHmac('sha256', this.secret).update(`autopoll-board-session:${expires}`).digest('hex');
  }
}
