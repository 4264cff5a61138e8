import { pyJsonDumps } from './pyjson.js';
import { bridgeNow } from './timestamp.js';
import type { Db } from './openBridge.js';
import type { ReadyResponse } from './responseBody.js';

const RESPONSE_METADATA = pyJsonDumps({ action_type: 'response' });

/**
 * Writes rows the way the bridge's own send and fetch do (PROTOCOL.md): side `b` to side `a`,
 * redacted (by readyResponse), with the audit row. Callers run it inside their transaction.
 */
export class BridgeWriter {
  private readonly insertMessage;
  private readonly insertAudit;
  private readonly markRead;

  constructor(db: Db) {
    this.insertMessage = db.prepare(
      `INSERT INTO messages (conversation_id, from_session, to_session, message, metadata, timestamp, read)
       VALUES (?, 'b', 'a', ?, ?, ?, 0)`,
    );
    this.insertAudit = db.prepare(
      `INSERT INTO audit_log (conversation_id, session_id, action, details, timestamp) VALUES (?, 'b', ?, ?, ?)`,
    );
    this.markRead = db.prepare(`UPDATE messages SET read = 1 WHERE id = ? AND read = 0`);
  }

  /**
   * Sends a response from `b` to `a`, as it is: it was redacted before it was cut to fit, and a
   * second redaction here could change what was measured. Returns the new message id.
   * `redactedBefore`: parts of it were redacted before it got here (a consumer's answer), which the
   * audit row reports too.
   */
  sendResponse(conversationId: string, response: ReadyResponse, redactedBefore = false): number {
    const redacted = response.redacted || redactedBefore;
    // pyJsonDumps writes ASCII only, so .length is Python's len(), the bridge's message_length.
    const text = pyJsonDumps(response.body);
    const now = bridgeNow();
    const id = Number(this.insertMessage.run(conversationId, text, RESPONSE_METADATA, now).lastInsertRowid);
    this.insertAudit.run(
      conversationId,
      'send_message',
      pyJsonDumps({ to: 'a', message_length: text.length, redacted }),
      now,
    );
    return id;
  }

  /** Marks one message read, as the bridge's fetch does; false when someone else already read it. */
  takeMessage(messageId: number): boolean {
    return this.markRead.run(messageId).changes === 1;
  }

  /** The audit row the bridge writes for a fetch of `count` messages by side `b`. */
  auditFetch(conversationId: string, count: number): void {
    this.insertAudit.run(conversationId, 'get_messages', pyJsonDumps({ count }), bridgeNow());
  }
}
