import type { LedgerState } from '../../bridge/Ledger.js';
import type { ConsumerInfo } from '../../shared/ConsumerPresence.js';
import type { ProducerInfo } from '../../shared/ProducerPresence.js';

/** The BullMQ states `status` counts, in the order it prints them. */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
export type JobCounts = Record<(typeof JOB_STATES)[number], number>;

/** Side b's session_status row, as askers read it. */
export interface SideBStatus {
  status: string;
  lastHeartbeat: string;
}

export interface ConversationStatus {
  id: string;
  /** Naive UTC, as the bridge writes it. */
  expiresAt: string;
  /** The producers whose presence lists it. */
  servedBy: string[];
  /** Its side-b heartbeat, when the bridge file was read and the heartbeat is alive (under 120 s). */
  sideB: SideBStatus | null;
}

/**
 * `autopoll status --json`: this shape is the command's interface (documented in the README);
 * add fields, never rename or remove them.
 */
export interface StatusReport {
  conversations: ConversationStatus[];
  /** The bridge file read for the ledger, and why it could not be read. */
  bridge: { path: string; error: string | null };
  ledger: Record<LedgerState, number> | null;
  queues: { questions: JobCounts; answers: JobCounts };
  /** BullMQ's own count of connected workers, to cross-check the consumers' presence. */
  workers: { questions: number; answers: number };
  pausedQueues: string[];
  consumers: ConsumerInfo[];
  producers: Array<ProducerInfo & { backpressure: boolean }>;
  oldestWaitingSeconds: number | null;
}

/** The bridge's view of served conversations: unexpired, with a live side-b heartbeat. */
export interface BridgeConversation {
  id: string;
  expiresAt: string;
  sideB: SideBStatus;
}

/**
 * One list from the producers' presence and the bridge: a conversation a producer names, or one
 * whose side b the bridge shows alive (a producer on a file this host cannot read, or another
 * shard). The bridge's expiry wins: it is the file's own.
 */
export function mergeConversations(producers: ProducerInfo[], bridge: BridgeConversation[] | null): ConversationStatus[] {
  const byId = new Map<string, ConversationStatus>();
  for (const p of producers) {
    for (const c of p.conversations) {
      const entry = byId.get(c.id) ?? { id: c.id, expiresAt: c.expiresAt, servedBy: [], sideB: null };
      entry.servedBy.push(p.name);
      byId.set(c.id, entry);
    }
  }
  for (const c of bridge ?? []) {
    const entry = byId.get(c.id) ?? { id: c.id, expiresAt: c.expiresAt, servedBy: [], sideB: null };
    byId.set(c.id, { ...entry, expiresAt: c.expiresAt, sideB: c.sideB });
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
