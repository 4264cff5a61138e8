import { randomBytes } from 'node:crypto';
import { redactAsBridge } from '../shared/redact.js';
import { openBridge, type Db } from './openBridge.js';
import { pyJsonDumps } from './pyjson.js';
import { bridgeNow, formatBridgeTimestamp, nowMicros, parseBridgeTimestamp } from './timestamp.js';
import { tokensMatch } from './tokens.js';

export type Side = 'a' | 'b';

export interface CreatedConversation {
  id: string;
  tokenA: string;
  tokenB: string;
  createdAt: string;
  expiresAt: string;
}

/** Why the bridge would refuse a side's token: the same checks as its _verify_token. */
export type TokenCheck = 'ok' | 'unknown conversation' | 'wrong token' | 'expired';

/** The bridge's conversation lifetime (PROTOCOL.md). */
export const CONVERSATION_TTL_SEC = 3 * 3600;

interface UnreadRow {
  id: number;
  message: string;
}

/**
 * A bridge participant, writing rows exactly as the bridge's MCP server (SecureBridge) does for
 * its callers: create_conversation, send_message (redaction of the whole text, audit row) and the
 * fetch's read mark with its audit row, each in a BEGIN IMMEDIATE transaction. `autopoll ask` plays
 * side `a` with it, and so do the tests; the producer has its own writer (it redacts values so
 * that its JSON stays valid, see BridgeWriter).
 */
export class BridgeClient {
  private readonly insertConversation;
  private readonly insertMessage;
  private readonly insertAudit;
  private readonly conversationById;
  private readonly unreadAfter;
  private readonly markRead;
  private readonly statusOf;
  private readonly messageById;
  private readonly youngestOfRole;

  constructor(readonly db: Db) {
    this.insertConversation = db.prepare(
      `INSERT INTO conversations (id, session_a_role, session_b_role, session_a_token, session_b_token, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertMessage = db.prepare(
      `INSERT INTO messages (conversation_id, from_session, to_session, message, metadata, timestamp) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.insertAudit = db.prepare(`INSERT INTO audit_log (conversation_id, session_id, action, details, timestamp) VALUES (?, ?, ?, ?, ?)`);
    this.conversationById = db.prepare<[string], { session_a_token: string; session_b_token: string; session_a_role: string; session_b_role: string; expires_at: string }>(
      'SELECT session_a_token, session_b_token, session_a_role, session_b_role, expires_at FROM conversations WHERE id = ?',
    );
    this.unreadAfter = db.prepare<[string, Side, number], UnreadRow>(
      'SELECT id, message FROM messages WHERE conversation_id = ? AND to_session = ? AND read = 0 AND id > ? ORDER BY id',
    );
    this.markRead = db.prepare('UPDATE messages SET read = 1 WHERE id = ? AND read = 0');
    this.statusOf = db.prepare<[string, Side], { status: string; last_heartbeat: string }>(
      'SELECT status, last_heartbeat FROM session_status WHERE conversation_id = ? AND session_id = ?',
    );
    this.messageById = db.prepare<[number, string], { message: string; read: number }>('SELECT message, read FROM messages WHERE id = ? AND conversation_id = ?');
    this.youngestOfRole = db.prepare<[string, string], { conversation_id: string; status: string; last_heartbeat: string; conversations: number }>(
      `SELECT s.conversation_id, s.status, MAX(s.last_heartbeat) AS last_heartbeat, COUNT(*) AS conversations
       FROM conversations c JOIN session_status s ON s.conversation_id = c.id AND s.session_id = 'b'
       WHERE c.session_b_role = ? AND c.expires_at > ?`,
    );
  }

  /**
   * Opens an existing bridge file as the bridge's own connections do (WAL, their busy timeout unless given);
   * never creates one, since a new file would be a bridge nobody else uses.
   */
  static open(path: string, busyTimeoutMs?: number): BridgeClient {
    return new BridgeClient(openBridge(path, { access: 'read-write', mustHold: 'bridge', busyTimeoutMs }));
  }

  /** create_conversation: ids and tokens of the bridge's shape, expiry 3 h on, and its audit row. */
  createConversation(options: { roleA: string; roleB: string; ttlSec?: number }): CreatedConversation {
    const id = `conv_${randomBytes(8).toString('hex')}`;
    const tokenA = randomBytes(32).toString('hex');
    const tokenB = randomBytes(32).toString('hex');
    const created = nowMicros();
    const createdAt = formatBridgeTimestamp(created);
    const expiresAt = formatBridgeTimestamp(created + (options.ttlSec ?? CONVERSATION_TTL_SEC) * 1_000_000);
    this.db.transaction(() => {
      this.insertConversation.run(id, options.roleA, options.roleB, tokenA, tokenB, createdAt, expiresAt);
      this.insertAudit.run(id, null, 'create_conversation', pyJsonDumps({ roles: [options.roleA, options.roleB] }), bridgeNow());
    }).immediate();
    return { id, tokenA, tokenB, createdAt, expiresAt };
  }

  /** The bridge's token check for `side`: constant-time compare, refused once expired. */
  checkToken(conversationId: string, side: Side, token: string): TokenCheck {
    const row = this.conversationById.get(conversationId);
    if (!row) return 'unknown conversation';
    if (!tokensMatch(token, side === 'a' ? row.session_a_token : row.session_b_token)) return 'wrong token';
    return isPast(row.expires_at) ? 'expired' : 'ok';
  }

  /** The conversation's roles and expiry, or undefined when it does not exist. */
  conversation(conversationId: string): { roleA: string; roleB: string; expiresAt: string } | undefined {
    const row = this.conversationById.get(conversationId);
    return row && { roleA: row.session_a_role, roleB: row.session_b_role, expiresAt: row.expires_at };
  }

  /**
   * send_message from `from` to the other side: the whole text redacted as the bridge does (which
   * may break JSON; `redacted` says it happened), metadata likewise, and the audit row.
   */
  send(conversationId: string, from: Side, text: string, metadata: Record<string, unknown> = { action_type: 'question' }): { id: number; redacted: boolean } {
    const to: Side = from === 'a' ? 'b' : 'a';
    return this.db.transaction(() => {
      const message = redactAsBridge(text);
      const meta = redactAsBridge(pyJsonDumps(metadata));
      const now = bridgeNow();
      const id = Number(this.insertMessage.run(conversationId, from, to, message, meta, now).lastInsertRowid);
      // Python's len() counts code points.
      const details = pyJsonDumps({ to, message_length: [...message].length, redacted: message !== text });
      this.insertAudit.run(conversationId, from, 'send_message', details, now);
      return { id, redacted: message !== text };
    }).immediate();
  }

  /** Side `a` sends a query as the bridge's askers write it (PROTOCOL.md). */
  ask(conversationId: string, queryId: string, question: string, extra: Record<string, unknown> = {}): { id: number; redacted: boolean } {
    return this.send(conversationId, 'a', queryBody(queryId, question, extra));
  }

  /** The unread response to `queryId` addressed to `to`, sent after message `afterId`; nothing is marked read. */
  findResponse(conversationId: string, to: Side, afterId: number, queryId: string): { id: number; body: Record<string, unknown> } | undefined {
    for (const row of this.unreadAfter.all(conversationId, to, afterId)) {
      const body = parseObject(row.message);
      if (body?.type === 'response' && body.query_id === queryId) return { id: row.id, body };
    }
    return undefined;
  }

  /**
   * Marks one message fetched as the bridge's get_messages does (read = 1 and its audit row).
   * Only this one: the bridge's fetch takes every unread row, which would swallow other traffic
   * of a conversation the asker reuses. False when someone else read it first.
   */
  take(conversationId: string, side: Side, messageId: number): boolean {
    return this.db.transaction(() => {
      if (this.markRead.run(messageId).changes !== 1) return false;
      this.insertAudit.run(conversationId, side, 'get_messages', pyJsonDumps({ count: 1 }), bridgeNow());
      return true;
    }).immediate();
  }

  /** A side's session_status row, as its partner's check_partner_status reads it. */
  sessionStatus(conversationId: string, side: Side): { status: string; lastHeartbeat: string } | undefined {
    const row = this.statusOf.get(conversationId, side);
    return row && { status: row.status, lastHeartbeat: row.last_heartbeat };
  }

  /** A message of the conversation by id, its body when it is a JSON object, and whether it was read. */
  message(conversationId: string, messageId: number): { body: Record<string, unknown> | undefined; read: boolean } | undefined {
    const row = this.messageById.get(messageId, conversationId);
    return row && { body: parseObject(row.message), read: row.read === 1 };
  }

  /**
   * The youngest side-b heartbeat among the unexpired conversations whose side b has `role`, and
   * how many of them have one: whether anything serves the role, as askers judge their partner.
   */
  youngestSideB(role: string): { conversationId: string; status: string; lastHeartbeat: string; conversations: number } | undefined {
    const row = this.youngestOfRole.get(role, bridgeNow());
    return row && row.conversations > 0 ? { conversationId: row.conversation_id, status: row.status, lastHeartbeat: row.last_heartbeat, conversations: row.conversations } : undefined;
  }

  close(): void {
    this.db.close();
  }
}

/** The query text: PROTOCOL.md's field order, Python's json.dumps formatting. */
export function queryBody(queryId: string, question: string, extra: Record<string, unknown> = {}): string {
  return pyJsonDumps({ type: 'query', query_id: queryId, question, ...extra });
}

function isPast(bridgeTimestamp: string): boolean {
  const at = parseBridgeTimestamp(bridgeTimestamp);
  return at === undefined || at < nowMicros();
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
