import type { ProducerInfo } from '../shared/ProducerPresence.js';

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
