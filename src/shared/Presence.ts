import { hostname } from 'node:os';
import type { z } from 'zod';
import { within } from './closing.js';
import { isDown, type RedisConnection } from './redis.js';

/** Every presence entry: keyed by a unique name, and when it was last refreshed. */
export interface PresenceEntry {
  name: string;
  seenAt: number;
}

/** One kind of process that announces itself (consumers, producers): its hash and entry schema. */
export interface PresenceKind<T extends PresenceEntry> {
  /** The hash's last key segment: `${prefix}:autopoll:${what}`. */
  what: string;
  schema: z.ZodType<T>;
}

/** A process unseen for this long is gone (each refreshes every PRESENCE_INTERVAL_MS). */
export const PRESENCE_STALE_MS = 30_000;
export const PRESENCE_INTERVAL_MS = 10_000;

/** One hash per kind and deployment, under the queues' hash tag so it shares their Redis Cluster slot. */
export function presenceKey(prefix: string, kind: { what: string }): string {
  return `${prefix}:autopoll:${kind.what}`;
}

/** A process's default name: unique per process, and says where to look. */
export function hostPid(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * Keeps this process's entry fresh while it runs and removes it when it stops. Redis being down
 * only delays the next refresh: presence is for operators, never on the working path.
 */
export class Presence<T extends PresenceEntry> {
  private timer: NodeJS.Timeout | undefined;
  private readonly key: string;
  /** Once stopped, nothing publishes again: a late publish (a job finishing during the close) would leave a ghost entry. */
  private stopped = false;

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
    private readonly kind: PresenceKind<T>,
    private readonly describe: () => Omit<T, 'seenAt'>,
    private readonly intervalMs = PRESENCE_INTERVAL_MS,
  ) {
    this.key = presenceKey(prefix, kind);
  }

  start(): void {
    // A malformed entry is a bug: it fails the start, where it shows, rather than every refresh.
    this.entry();
    void this.publish();
    this.timer = setInterval(() => void this.publish(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    // Bounded: with Redis down the entry simply goes stale. A publish under way sent its HSET on
    // this connection before this HDEL, which Redis then runs after it.
    await within(this.redis.hdel(this.key, this.describe().name).catch(() => undefined), 1000);
  }

  private entry(): T {
    return this.kind.schema.parse({ ...this.describe(), seenAt: Date.now() });
  }

  /** Publishes now, when what it describes changed (e.g. a newly served conversation). */
  publish(): Promise<void> {
    // While Redis is down the connection would queue every refresh and replay them all on return;
    // at start (still connecting) the first one waits for the connection as it should.
    if (this.stopped || isDown(this.redis)) return Promise.resolve();
    return this.write();
  }

  private async write(): Promise<void> {
    try {
      const info = this.entry();
      await this.redis.hset(this.key, info.name, JSON.stringify(info));
    } catch {
      // Redis down: the next refresh tries again.
    }
  }
}

/**
 * The processes of a kind seen lately, by name; stale or unreadable entries are left out, and
 * removed unless `prune` is false (a read-only board writes nothing).
 */
export async function listPresence<T extends PresenceEntry>(
  redis: RedisConnection,
  prefix: string,
  kind: PresenceKind<T>,
  now = Date.now(),
  prune = true,
): Promise<T[]> {
  const key = presenceKey(prefix, kind);
  const entries = await redis.hgetall(key);
  const live: T[] = [];
  const stale: string[] = [];
  for (const [name, text] of Object.entries(entries)) {
    const parsed = kind.schema.safeParse(safeJson(text));
    if (parsed.success && now - parsed.data.seenAt <= PRESENCE_STALE_MS) live.push(parsed.data);
    else stale.push(name);
  }
  if (prune && stale.length) await redis.hdel(key, ...stale);
  return live.sort((a, b) => a.name.localeCompare(b.name));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
