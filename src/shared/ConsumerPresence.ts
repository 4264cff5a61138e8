import type { Redis } from 'ioredis';
import { z } from 'zod';
import { within } from './closing.js';

/** What a consumer tells the fleet about itself; `autopoll status` and the board read it. */
export const ConsumerInfoSchema = z.object({
  name: z.string().min(1),
  host: z.string(),
  pid: z.number().int(),
  answerer: z.string(),
  /** Questions it answers at once (its sessions). */
  sessions: z.number().int().nonnegative(),
  /** The live session processes (Claude Code), empty for the stub. */
  sessionPids: z.array(z.number().int()),
  busy: z.number().int().nonnegative(),
  startedAt: z.number(),
  seenAt: z.number(),
});
export type ConsumerInfo = z.infer<typeof ConsumerInfoSchema>;

/** One hash per deployment, under the queues' hash tag so it shares their Redis Cluster slot. */
export function presenceKey(prefix: string): string {
  return `${prefix}:autopoll:consumers`;
}

/** A consumer unseen for this long is gone (it refreshes every PRESENCE_INTERVAL_MS). */
export const PRESENCE_STALE_MS = 30_000;
export const PRESENCE_INTERVAL_MS = 10_000;

/**
 * Keeps this consumer's entry fresh while it runs and removes it when it stops. Redis being down
 * only delays the next refresh: presence is for operators, never on the answering path.
 */
export class ConsumerPresence {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly describe: () => Omit<ConsumerInfo, 'seenAt'>,
    private readonly intervalMs = PRESENCE_INTERVAL_MS,
  ) {}

  start(): void {
    void this.publish();
    this.timer = setInterval(() => void this.publish(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Bounded: with Redis down the entry simply goes stale.
    await within(this.redis.hdel(presenceKey(this.prefix), this.describe().name).catch(() => undefined), 1000);
  }

  private async publish(): Promise<void> {
    const info: ConsumerInfo = { ...this.describe(), seenAt: Date.now() };
    await this.redis.hset(presenceKey(this.prefix), info.name, JSON.stringify(info)).catch(() => undefined);
  }
}

/** The consumers seen lately, by name; stale or unreadable entries are left out (and stale ones removed). */
export async function listConsumers(redis: Redis, prefix: string, now = Date.now()): Promise<ConsumerInfo[]> {
  const entries = await redis.hgetall(presenceKey(prefix));
  const live: ConsumerInfo[] = [];
  const stale: string[] = [];
  for (const [name, text] of Object.entries(entries)) {
    const parsed = ConsumerInfoSchema.safeParse(safeJson(text));
    if (parsed.success && now - parsed.data.seenAt <= PRESENCE_STALE_MS) live.push(parsed.data);
    else stale.push(name);
  }
  if (stale.length) await redis.hdel(presenceKey(prefix), ...stale);
  return live.sort((a, b) => a.name.localeCompare(b.name));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
