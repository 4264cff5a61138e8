import type { RedisConnection } from './redis.js';
import { z } from 'zod';
import { listPresence, type PresenceKind } from './Presence.js';

/** What a producer tells the fleet about itself; `autopoll status` reads it. */
export const ProducerInfoSchema = z.object({
  name: z.string().min(1),
  host: z.string(),
  pid: z.number().int(),
  /** The bridge file it serves (absolute path on its host). */
  bridgeDb: z.string(),
  /** Its --role, when it serves conversations by role. */
  role: z.string().nullable(),
  /** The conversations it serves now, with their bridge expiry (naive UTC, as the bridge writes it). */
  conversations: z.array(z.object({ id: z.string(), expiresAt: z.string() })),
  /** Whether it has stopped taking questions because too many are queued (absent: no such limit). */
  backpressure: z.boolean().optional(),
  startedAt: z.number(),
  seenAt: z.number(),
});
export type ProducerInfo = z.infer<typeof ProducerInfoSchema>;

export const PRODUCERS: PresenceKind<ProducerInfo> = { what: 'producers', schema: ProducerInfoSchema };

/** The producers seen lately, by name. */
export function listProducers(redis: RedisConnection, prefix: string, now = Date.now()): Promise<ProducerInfo[]> {
  return listPresence(redis, prefix, PRODUCERS, now);
}
