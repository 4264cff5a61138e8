import type { RedisConnection } from './redis.js';
import { z } from 'zod';
import { listPresence, type PresenceKind } from './Presence.js';
import { printable } from './printable.js';

/** What a producer tells the fleet about itself; `autopoll status` reads it. */
export const ProducerInfoSchema = z.object({
  name: printable(200, 1),
  host: printable(200),
  pid: z.number().int(),
  /** The bridge file it serves (absolute path on its host). */
  bridgeDb: printable(4096),
  /** That file's identity (autopoll_bridge); absent from producers older than bridge identity. */
  bridgeId: printable(64).optional(),
  /** Its --role, when it serves conversations by role. */
  role: printable(200).nullable(),
  /** The conversations it serves now, with their bridge expiry (naive UTC, as the bridge writes it). */
  conversations: z.array(z.object({ id: printable(100), expiresAt: printable(40) })),
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
