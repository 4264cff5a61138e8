import type { RedisConnection } from './redis.js';
import { z } from 'zod';
import { listPresence, type PresenceKind } from './Presence.js';
import { printable } from './printable.js';

/** What a consumer tells the fleet about itself; `autopoll status` and the board read it. */
export const ConsumerInfoSchema = z.object({
  name: printable(200, 1),
  host: printable(200),
  pid: z.number().int(),
  answerer: printable(100),
  /** Questions it answers at once: its most sessions (--sessions). */
  sessions: z.number().int().nonnegative(),
  /** Its sessions started or starting now: absent where all of them always run (the stub, consumers older than elastic pools). */
  liveSessions: z.number().int().nonnegative().optional(),
  /** The most sessions it runs: `sessions`, named for what it is beside liveSessions. */
  maxSessions: z.number().int().nonnegative().optional(),
  /** The live session processes (Claude Code), empty for the stub. */
  sessionPids: z.array(z.number().int()),
  busy: z.number().int().nonnegative(),
  /**
   * stopped: up, but taking no questions until it is restarted (e.g. no usable Claude credentials).
   * An entry from a consumer older than this field is running; one from a newer consumer may name
   * a state this one does not know: shown as written, never a reason to drop the entry.
   */
  state: printable(40).default('running'),
  /** Why it is stopped, and the fix. */
  reason: printable(1000).optional(),
  startedAt: z.number(),
  seenAt: z.number(),
});
export type ConsumerInfo = z.infer<typeof ConsumerInfoSchema>;

export const CONSUMERS: PresenceKind<ConsumerInfo> = { what: 'consumers', schema: ConsumerInfoSchema };

/** The consumers seen lately, by name. */
export function listConsumers(redis: RedisConnection, prefix: string, now = Date.now(), prune = true): Promise<ConsumerInfo[]> {
  return listPresence(redis, prefix, CONSUMERS, now, prune);
}

/** Its sessions as operators read them: live/max (`1/16`), or the max alone where all of them always run. */
export function sessionsShown(c: Pick<ConsumerInfo, 'sessions' | 'liveSessions'>): string {
  return c.liveSessions === undefined ? String(c.sessions) : `${c.liveSessions}/${c.sessions}`;
}
