import { CONVERSATION_TTL_SEC, type BridgeClient } from '../../bridge/BridgeClient.js';
import { msSince } from '../../bridge/timestamp.js';
import type { Logger } from '../../shared/logger.js';
import { ToolRefusal } from './ToolRefusal.js';

/** The role `autopoll mcp` gives side `a` of the conversations it creates, so they are told apart in the bridge. */
export const MCP_ROLE = 'autopoll-mcp';

/** A conversation to create (and renew) for a side-b role, or one given with its side-a token. */
export type ConversationSource = { role: string } | { conversationId: string; token: string };

export interface HeldConversation {
  conversationId: string;
  roleB: string;
  expiresAt: string;
  /** Whether this server created it (and may create the next one when it runs out). */
  created: boolean;
}

/**
 * The conversation the server asks in. For a role: created on first use, and replaced by a new one
 * once it has less life left than a question may wait (the bridge refuses a conversation's tokens
 * after its 3 h, and a shard stops serving it); questions already asked in the old one are still
 * awaited there. A given conversation is checked as the bridge checks its caller's token, on every use.
 */
export class AskerConversation {
  private held: HeldConversation | undefined;

  constructor(
    private readonly client: BridgeClient,
    private readonly source: ConversationSource,
    private readonly logger: Logger,
  ) {}

  /**
   * The conversation to ask in now, with at least `lifeMs` left (at most what a new one has, less a
   * minute: a longer wait must not make every call create one).
   */
  current(lifeMs: number): HeldConversation {
    if ('role' in this.source) {
      const wanted = Math.min(lifeMs, (CONVERSATION_TTL_SEC - 60) * 1000);
      // Its expiry as the bridge holds it now, not as it was when made.
      const expiresAt = this.held && this.client.conversation(this.held.conversationId)?.expiresAt;
      if (this.held === undefined || expiresAt === undefined || -msSince(expiresAt) < wanted) this.renew(this.source.role);
      return this.held!;
    }
    const { conversationId, token } = this.source;
    const check = this.client.checkToken(conversationId, 'a', token);
    if (check === 'unknown conversation') throw new ToolRefusal(`conversation ${conversationId} (--conversation, env AUTOPOLL_MCP_CONVERSATION) does not exist in this bridge file; fix the flag or --bridge-db and restart the server`);
    if (check === 'wrong token') throw new ToolRefusal(`AUTOPOLL_MCP_TOKEN is not the side-a token of conversation ${conversationId}; set the conversation's session_a_token and restart the server`);
    if (check === 'expired') throw new ToolRefusal(`conversation ${conversationId} has expired (the bridge refuses its tokens after 3 h); restart the server without --conversation, and it creates and renews its own`);
    const { roleB, expiresAt } = this.client.conversation(conversationId)!;
    this.held = { conversationId, roleB, expiresAt, created: false };
    return this.held;
  }

  /** What shard_status looks at: the conversation asked in last, or the given one before any ask. */
  get last(): HeldConversation | undefined {
    if (this.held || 'role' in this.source) return this.held;
    const c = this.client.conversation(this.source.conversationId);
    return c && { conversationId: this.source.conversationId, roleB: c.roleB, expiresAt: c.expiresAt, created: false };
  }

  private renew(role: string): void {
    const before = this.held;
    const c = this.client.createConversation({ roleA: MCP_ROLE, roleB: role });
    this.held = { conversationId: c.id, roleB: role, expiresAt: c.expiresAt, created: true };
    this.logger.info({ conversationId: c.id, role, expiresAt: c.expiresAt, replaces: before?.conversationId }, before ? 'renewed the conversation before it expires' : 'created the conversation to ask in');
  }
}
