import type { BridgeChanges } from '../../bridge/BridgeChanges.js';
import type { BridgeClient } from '../../bridge/BridgeClient.js';
import { SIDE_ALIVE_MS } from '../../bridge/limits.js';
import { msSince } from '../../bridge/timestamp.js';
import type { ConversationSource, HeldConversation } from './AskerConversation.js';
import { ToolRefusal } from './ToolRefusal.js';

export interface SideBBeat {
  status: string;
  lastHeartbeat: string;
}

/**
 * Whether a shard serves what the server asks in, judged as the bridge's askers judge their
 * partner: side b's heartbeat under 120 s old, on the conversation itself or (asking for a role)
 * on any conversation of the role, which a shard serving the role beats for all of them.
 */
export class ShardLiveness {
  private readonly checks = new Map<string, Promise<void>>();

  constructor(
    private readonly client: BridgeClient,
    private readonly changes: BridgeChanges,
    private readonly source: ConversationSource,
    private readonly o: { bridgeDb: string; graceMs: number },
  ) {}

  /**
   * Side b's heartbeat of the conversation; before there is one to ask in, the youngest of the
   * role's. Only the conversation's own counts once it exists: a shard may serve some of a role's
   * conversations by grant and never this one.
   */
  youngest(held: HeldConversation | undefined): SideBBeat | undefined {
    if (held) return this.client.sessionStatus(held.conversationId, 'b');
    return 'role' in this.source ? this.client.youngestSideB(this.source.role) : undefined;
  }

  /**
   * Refuses to ask when nothing serves the conversation, after a grace that lets a shard take up a
   * conversation just created (it beats for it once it sees the commit, an earlier autopoll at its 2 s refresh). Sending sooner
   * would gain nothing: a shard takes a conversation's questions when it takes up the conversation.
   * Calls asking at once share one check.
   */
  ensure(held: HeldConversation): Promise<void> {
    const fresh = () => {
      const beat = this.youngest(held);
      return beat !== undefined && msSince(beat.lastHeartbeat) < SIDE_ALIVE_MS ? true : undefined;
    };
    if (fresh()) return Promise.resolve();
    let check = this.checks.get(held.conversationId);
    if (!check) {
      // Not cancelled with the call that started it: other calls may share it.
      check = this.changes.waitFor(fresh, Date.now() + this.o.graceMs).then((end) => {
        if (end === true) return;
        if (end === 'aborted') throw new ToolRefusal('autopoll mcp is stopping; nothing was asked: ask again once it is back');
        const beat = this.youngest(held);
        const last = beat ? `the last side-b heartbeat of conversation ${held.conversationId} was ${Math.round(msSince(beat.lastHeartbeat) / 1000)} s ago` : `no shard has ever sent a side-b heartbeat for conversation ${held.conversationId}`;
        throw new ToolRefusal(
          `no shard is serving role ${held.roleB} on ${this.o.bridgeDb} (${last}; a shard beats at least every 120 s): start one, e.g. \`autopoll up --role ${held.roleB} --bridge-db ${this.o.bridgeDb}\`, or see \`autopoll status\``,
        );
      }).finally(() => this.checks.delete(held.conversationId));
      this.checks.set(held.conversationId, check);
    }
    return check;
  }
}
