import type { Logger } from '../shared/logger.js';
import { bridgeNow } from '../bridge/timestamp.js';
import type { Db } from '../bridge/openBridge.js';
import type { Ledger } from '../bridge/Ledger.js';

/**
 * Keeps side `b`'s session_status fresh for every served conversation, so the asker's partner
 * check (alive under 120 s) sees the shard: `working` while the conversation has questions in
 * flight, `waiting` otherwise.
 */
export class Heartbeat {
  private readonly upsert;

  constructor(
    db: Db,
    private readonly ledger: Ledger,
    private readonly conversations: () => string[],
    private readonly logger: Logger,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO session_status (conversation_id, session_id, status, last_heartbeat) VALUES (?, 'b', ?, ?)
       ON CONFLICT (conversation_id, session_id) DO UPDATE SET status = excluded.status, last_heartbeat = excluded.last_heartbeat`,
    );
  }

  /** One beat for every served conversation, or `only` these; a write, so the caller retries SQLITE_BUSY. */
  beat(only?: string[]): void {
    const inFlight = this.ledger.queuedCounts();
    const now = bridgeNow();
    const ids = only ?? this.conversations();
    for (const id of ids) {
      this.upsert.run(id, (inFlight.get(id) ?? 0) > 0 ? 'working' : 'waiting', now);
    }
    this.logger.debug({ conversations: ids.length }, 'heartbeat');
  }
}
