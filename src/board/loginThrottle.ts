import { isIPv4, isIPv6 } from 'node:net';
import { isLoopback } from './bindPolicy.js';

/**
 * Free wrong tokens per window (from one address, and from all together), then the pause between
 * two wrong answers to one address: it starts at firstPauseMs and doubles with each further wrong
 * token of that address, up to maxPauseMs. At most maxWaiting wrong answers of one address wait at
 * a time (each holds a connection); more are answered 429 at once. Memory stays bounded: addresses
 * beyond maxAddresses are not remembered (their wrong tokens are answered at once and count only
 * overall), a limit only a guesser holding that many addresses reaches.
 */
export const LOGIN_LIMITS = { perAddress: 5, overall: 30, windowMs: 60_000, firstPauseMs: 1_000, maxPauseMs: 8_000, maxWaiting: 10, maxAddresses: 10_000 };

/** How a wrong token is answered: 401 after waitMs, or 429 at once (retry after retryAfterSeconds). */
export type WrongAnswer = { waitMs: number } | { retryAfterSeconds: number };

const LOOPBACK = 'loopback';

/** An IPv6 address's eight 16-bit groups (`::` expanded, a trailing dotted IPv4 as two groups). */
function ipv6Groups(address: string): number[] {
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  const [head = '', tail] = address.split('::');
  const first = parse(head);
  const last = tail === undefined ? [] : parse(tail);
  return [...first, ...Array<number>(8 - first.length - last.length).fill(0), ...last];
}

/**
 * The bucket an address's wrong tokens count in. Any local user can connect from any 127.x.y.z or
 * ::1, and one IPv6 host usually holds a whole /64: counted apart, they would give a guesser as many
 * free tries as addresses it picks. So all loopback is one bucket, and IPv6 counts by /64.
 */
export function addressBucket(address: string): string {
  const plain = address.replace(/%.*$/, '');
  if (isIPv4(plain)) return isLoopback(plain) ? LOOPBACK : plain;
  if (!isIPv6(plain)) return plain;
  const groups = ipv6Groups(plain);
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    if (g5 === 0xffff) return addressBucket(`${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`);
    if (g5 === 0 && g6 === 0 && g7 === 1) return LOOPBACK;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * Bounds token guessing (login form and Bearer header) without ever refusing the right token. The
 * token is checked first, at once, and the right one is always accepted: anything that made the
 * right token wait on an address's count would let whoever shares that address (every local user
 * of a loopback board, every client behind a proxy without --trust-proxy) lock the operator out.
 * What is throttled is the answer to a wrong token: it is delayed, so a guesser on one address
 * learns "wrong" at most once per pause. That bounds guesses only for a guesser that waits for its
 * answers: one sending in parallel learns the right token as soon as it sends it, and its wrong
 * ones beyond maxWaiting get 429, but sent they were, and checked. So the throttle slows guessing
 * of a weak token and keeps the connections, logs and CPU a guesser costs bounded; it is not the
 * defence against brute force: that is the token's length (16 characters or more; a random one of
 * that length cannot be guessed at any rate a server answers).
 *
 * - Under the limits a wrong token is answered at once.
 * - An address past its free failures gets its wrong answers one per pause, in turn, the pause
 *   doubling with each; past maxWaiting waiting ones, 429 at once.
 * - Past the overall limit (a guesser with many addresses, or one naming its own X-Forwarded-For
 *   behind --trust-proxy true) every address's wrong answers are paced that way.
 *
 * One fixed window that starts at the first failure and lasts at least until the last waiting
 * answer is given; its end forgets everything.
 */
export class LoginThrottle {
  private failures = new Map<string, number>();
  /** Per bucket, when each of its waiting wrong answers is given, in order. */
  private answers = new Map<string, number[]>();
  private total = 0;
  private windowEnd = 0;

  constructor(
    private readonly limits = LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a wrong token from address and says when to answer it. */
  fail(address: string): WrongAnswer {
    const now = this.now();
    if (this.total > 0 && now >= this.windowEnd) {
      this.failures = new Map();
      this.answers = new Map();
      this.total = 0;
    }
    if (this.total === 0) this.windowEnd = now + this.limits.windowMs;
    this.total += 1;
    const bucket = addressBucket(address);
    const remembered = this.failures.has(bucket) || this.failures.size < this.limits.maxAddresses;
    const failed = this.failures.get(bucket) ?? 0;
    if (remembered) this.failures.set(bucket, failed + 1);
    if (!remembered || (failed < this.limits.perAddress && this.total <= this.limits.overall)) return { waitMs: 0 };
    const waiting = (this.answers.get(bucket) ?? []).filter((at) => at > now);
    const last = waiting.at(-1) ?? now;
    if (waiting.length >= this.limits.maxWaiting) {
      this.answers.set(bucket, waiting);
      return { retryAfterSeconds: Math.max(1, Math.ceil(((waiting[0] ?? now) - now) / 1000)) };
    }
    const excess = Math.max(0, failed - this.limits.perAddress);
    const at = last + Math.min(this.limits.maxPauseMs, this.limits.firstPauseMs * 2 ** excess);
    this.answers.set(bucket, [...waiting, at]);
    this.windowEnd = Math.max(this.windowEnd, at);
    return { waitMs: at - now };
  }
}
