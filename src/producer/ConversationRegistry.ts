import { ConversationRows, type ConversationGrant, type ConversationRow } from '../bridge/conversations.js';
import type { Db } from '../bridge/openBridge.js';
import { bridgeNow } from '../bridge/timestamp.js';
import { tokensMatch } from '../bridge/tokens.js';
import { knownSecrets } from '../shared/knownSecrets.js';
import type { Logger } from '../shared/logger.js';

/**
 * Which conversations the producer serves: the ones granted by id and side-`b` token, and every
 * unexpired one whose side `b` has the configured role. Refreshed while running, so new role
 * conversations are picked up and expired ones dropped. Problems are logged once, never thrown.
 */
export class ConversationRegistry {
  private served = new Map<string, string>(); // id -> expires_at
  private refused = new Map<string, string>(); // id -> why, as of the last refresh
  private reported = new Set<string>();
  private newestSeen = 0;
  private readonly rows: ConversationRows;

  constructor(
    db: Db,
    private readonly grants: ConversationGrant[],
    private readonly role: string | undefined,
    private readonly logger: Logger,
  ) {
    this.rows = new ConversationRows(db);
  }

  /** Re-reads the conversations; returns the ids that became served with this refresh. */
  refresh(): string[] {
    this.newestSeen = this.rows.newestRowid();
    const now = bridgeNow();
    const next = new Map<string, string>();
    this.refused = new Map();
    for (const grant of this.grants) {
      const row = this.rows.byId(grant.id);
      if (!row) {
        this.refuse(grant.id, 'not in the bridge file', 'error', {},
          `conversation ${grant.id} does not exist in the bridge file; check --conversation and BRIDGE_DB`);
      } else if (!tokensMatch(grant.token, row.session_b_token)) {
        this.refuse(grant.id, "token refused: it is not this conversation's side-b token", 'error', {},
          `conversation ${grant.id}: token refused, it is not this conversation's side-b token; pass --conversation ${grant.id}:<session_b_token>`);
      } else if (row.expires_at <= now) {
        this.refuse(grant.id, `expired at ${row.expires_at} UTC`, 'warn', { expiresAt: row.expires_at },
          `conversation ${grant.id} expired at ${row.expires_at} UTC; skipped`);
      } else {
        this.learnTokens(row);
        next.set(row.id, row.expires_at);
      }
    }
    if (this.role) {
      for (const row of this.rows.unexpiredOfRole(this.role, now)) {
        this.learnTokens(row);
        next.set(row.id, row.expires_at);
      }
    }
    const added = [...next.keys()].filter((id) => !this.served.has(id));
    for (const id of this.served.keys()) {
      if (!next.has(id)) this.logger.info({ conversation: id }, 'conversation no longer served (expired)');
    }
    for (const id of added) this.logger.info({ conversation: id, expiresAt: next.get(id) }, 'serving conversation');
    this.served = next;
    return added;
  }

  /**
   * A conversation was created since the last refresh: its rowid is above the largest then. A
   * lower rowid (a row deleted and its rowid reused, a table rebuilt) waits for the next refresh,
   * as does a look that fails (that refresh logs why).
   */
  hasNewConversations(): boolean {
    try {
      return this.rows.newestRowid() > this.newestSeen;
    } catch {
      return false;
    }
  }

  isServed(conversationId: string): boolean {
    return this.served.has(conversationId);
  }

  ids(): string[] {
    return [...this.served.keys()];
  }

  /** The served conversations with their bridge expiry, by id, for the producer's presence. */
  expiries(): Array<{ id: string; expiresAt: string }> {
    return [...this.served].map(([id, expiresAt]) => ({ id, expiresAt })).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The granted conversations the last refresh refused, each with why. */
  refusals(): Array<{ id: string; why: string }> {
    return [...this.refused].map(([id, why]) => ({ id, why }));
  }

  /**
   * A served conversation's tokens, both sides (a role's were in no flag, side a's never are):
   * from here on the process keeps them out of what it writes.
   */
  private learnTokens(row: ConversationRow): void {
    knownSecrets.add('conversation-token', row.session_a_token);
    knownSecrets.add('conversation-token', row.session_b_token);
  }

  /** Records why a grant is not served, and logs it the first time. */
  private refuse(id: string, why: string, level: 'error' | 'warn', fields: object, message: string): void {
    this.refused.set(id, why);
    const key = `${id}:${why}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.logger[level]({ conversation: id, ...fields }, message);
  }
}

/**
 * A producer without a role that serves no conversation: nothing could ever reach it (a role's
 * new conversations are the only ones that appear while it runs), so it refuses to start rather
 * than idle. The message names each refused conversation and the fix.
 */
export class NothingToServeError extends Error {
  override readonly name = 'NothingToServeError';
  constructor(refusals: Array<{ id: string; why: string }>, bridgeDb: string) {
    super(
      refusals.length === 0
        ? 'no conversation to serve: pass --conversation CONV_ID:TOKEN (env AUTOPOLL_CONVERSATIONS) or --role ROLE (env AUTOPOLL_ROLE)'
        : `no conversation to serve: every conversation given was refused, and without --role no other can appear:\n` +
            refusals.map((r) => `  ${r.id}: ${r.why}\n`).join('') +
            `Pass --conversation CONV_ID:SESSION_B_TOKEN (env AUTOPOLL_CONVERSATIONS) of an unexpired conversation in ${bridgeDb} ` +
            '(`autopoll doctor --conversation ...` checks them), or --role ROLE (env AUTOPOLL_ROLE) to serve every conversation of that side-b role, those created later too.',
    );
  }
}
