import { resolve } from 'node:path';
import { within } from '../shared/closing.js';
import type { Logger } from '../shared/logger.js';
import { hostPid, type Presence } from '../shared/Presence.js';
import { listProducers, type ProducerInfo } from '../shared/ProducerPresence.js';
import type { RedisConnection } from '../shared/redis.js';

/** How long the start waits for Redis to say whether another bridge's producer uses the prefix. */
const PREFIX_CHECK_MS = 5000;

/**
 * Another bridge's producer is live under this --prefix. Job ids carry the bridge id, so answers
 * would not cross, but the two would share one questions queue and its consumers, limits and
 * board: one bridge per prefix is the rule, and breaking it is a configuration error.
 */
export class PrefixTakenError extends Error {
  override readonly name = 'PrefixTakenError';
  constructor(other: ProducerInfo, self: { bridgeId: string; bridgeDb: string; prefix: string }) {
    super(
      `another producer (host ${other.host} pid ${other.pid}) serves bridge ${other.bridgeId} (${other.bridgeDb}) under --prefix ${self.prefix}; ` +
        `this one serves bridge ${self.bridgeId} (${self.bridgeDb}). Give this bridge its own --prefix (env AUTOPOLL_PREFIX); ` +
        'producers of the same bridge file may share one.',
    );
  }
}

/** The first live producer, other than `selfName`, of another bridge file (a pre-identity one names none, and is let be). */
export function otherBridgeProducer(live: ProducerInfo[], selfName: string, bridgeId: string): ProducerInfo | undefined {
  return live.find((p) => p.name !== selfName && p.bridgeId !== undefined && p.bridgeId !== bridgeId);
}

/**
 * Throws PrefixTakenError when another bridge's producer is live under the prefix. It publishes
 * itself first: of two started at once, each then sees the other (both refuse, neither mixes).
 * With Redis down at start it goes on, saying so: the answer writer still refuses foreign answers.
 */
export async function refuseSharedPrefix(
  presence: Presence<ProducerInfo>,
  self: { connection: RedisConnection; prefix: string; bridgeDb: string; bridgeId: string },
  logger: Logger,
  stopping?: AbortSignal,
): Promise<void> {
  const { connection, prefix, bridgeDb, bridgeId } = self;
  const look = presence.publish().then(() => listProducers(connection, prefix));
  let live: ProducerInfo[] | undefined;
  // A shutdown signal ends the wait: with Redis down it would hold the stop for PREFIX_CHECK_MS.
  const aborted = new Promise<void>((r) => (stopping?.aborted ? r() : stopping?.addEventListener('abort', () => r(), { once: true })));
  const answered = await within(Promise.race([look.then((l) => (live = l)), aborted]), PREFIX_CHECK_MS).catch(() => false);
  if (stopping?.aborted) {
    await within(presence.stop(), 1000);
    stopping.throwIfAborted();
  }
  if (!answered || !live) {
    logger.warn({ prefix }, 'Redis did not answer: could not check that no other bridge is served under this --prefix');
    return;
  }
  const other = otherBridgeProducer(live, hostPid(), bridgeId);
  if (!other) return;
  await presence.stop();
  throw new PrefixTakenError(other, { bridgeId, bridgeDb: resolve(bridgeDb), prefix });
}
