import { setTimeout as sleep } from 'node:timers/promises';
import { Coalesced } from '../shared/Coalesced.js';
import type { Logger } from '../shared/logger.js';
import type { ConversationRegistry } from './ConversationRegistry.js';

/** What the refresher drives: the producer's registry, intake, heartbeat and presence. */
export interface ConversationRefresherParts {
  registry: ConversationRegistry;
  /** Takes a newly served conversation's unread questions (they may wait for room in the queue). */
  takeBacklog: (conversationId: string) => Promise<void>;
  /** Side b's heartbeat for these conversations (retrying a busy file until `stopping`). */
  beat: (conversationIds: string[]) => Promise<void>;
  /** The producer's presence says what it serves now. */
  announce: () => void;
  stopping: AbortSignal;
}

export const REFRESH_FAILED = 'reading the served conversations from the bridge failed; the next refresh retries';

/**
 * Takes up conversations: re-reads the served ones (every refresh interval, and when a commit
 * created one, so its first question is not held up to 2 s), beats for the newly served at once
 * (an asker such as `autopoll mcp` waits to see side b alive before it asks), then takes their
 * backlogs. Re-reads are coalesced (a burst of new conversations, each `autopoll ask` making one,
 * costs a read or two) and never wait for a backlog: those are taken one after another apart, so
 * one waiting for room in a full queue holds up no other conversation's beat.
 */
export class ConversationRefresher {
  private readonly refreshing = new Coalesced(async () => this.serve(this.read()));
  private backlogs: Promise<void> = Promise.resolve();

  constructor(
    private readonly parts: ConversationRefresherParts,
    private readonly logger: Logger,
  ) {}

  /** Re-reads the conversations now, or once the read under way ends. */
  refresh(): void {
    this.refreshing.run();
  }

  /** Another process committed: re-reads if it created a conversation (a cheap look). */
  changed(): void {
    if (this.parts.registry.hasNewConversations()) this.refreshing.run();
  }

  /** Beats for conversations just served, then queues their backlogs. */
  async serve(added: string[]): Promise<void> {
    if (!added.length || this.parts.stopping.aborted) return;
    this.parts.announce();
    await this.beat(added);
    this.backlogs = this.backlogs.then(() => this.takeBacklogs(added));
  }

  /** Ends when the read and the backlogs under way have. */
  async settled(): Promise<void> {
    await Promise.all([this.refreshing.settled(), this.backlogs]);
  }

  private read(): string[] {
    if (this.parts.stopping.aborted) return [];
    try {
      return this.parts.registry.refresh();
    } catch (err) {
      this.logger.error({ err }, REFRESH_FAILED);
      return [];
    }
  }

  /**
   * Until taken or stopping: questions already taken are passed over, so a retry takes only the
   * rest (rows a failed take left to the intake's pass are out of its reach: that pass takes them).
   */
  private async takeBacklogs(added: string[]): Promise<void> {
    while (!this.parts.stopping.aborted) {
      try {
        for (const id of added) await this.parts.takeBacklog(id);
        // Again, now that the ledger holds them: `working` while they are answered.
        return await this.beat(added);
      } catch (err) {
        if (this.parts.stopping.aborted) return;
        this.logger.error({ err, conversations: added }, 'taking the unread questions of newly served conversations failed; trying again in 1 s');
        await sleep(1000, undefined, { signal: this.parts.stopping }).catch(() => undefined);
      }
    }
  }

  /** A failed beat holds up nothing: the periodic heartbeat beats for every served conversation. */
  private async beat(added: string[]): Promise<void> {
    try {
      await this.parts.beat(added);
    } catch (err) {
      if (!this.parts.stopping.aborted) this.logger.error({ err, conversations: added }, 'side b heartbeat for newly served conversations failed; the periodic heartbeat beats for them');
    }
  }
}
