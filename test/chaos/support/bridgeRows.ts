import { expect } from 'vitest';
import { pyJsonDumps } from '../../../src/bridge/pyjson.js';
import { bridgeNow } from '../../../src/bridge/timestamp.js';
import type { BridgeFixture } from '../../support/bridge.js';

/**
 * Side `a` writes a row without the bridge's send (so nothing is redacted or re-encoded on the
 * way): the text as generated, a BLOB or a number, with the audit row the bridge would add.
 */
export function insertRaw(bridge: BridgeFixture, conversationId: string, message: string | Buffer | number): number {
  const db = bridge.db;
  return db.transaction(() => {
    const now = bridgeNow();
    const id = Number(
      db.prepare(`INSERT INTO messages (conversation_id, from_session, to_session, message, metadata, timestamp) VALUES (?, 'a', 'b', ?, ?, ?)`)
        .run(conversationId, message, pyJsonDumps({ action_type: 'question' }), now).lastInsertRowid,
    );
    const length = typeof message === 'string' ? [...message].length : String(message).length;
    db.prepare(`INSERT INTO audit_log (conversation_id, session_id, action, details, timestamp) VALUES (?, 'a', 'send_message', ?, ?)`)
      .run(conversationId, pyJsonDumps({ to: 'b', message_length: length, redacted: false }), now);
    return id;
  }).immediate();
}

/** Python's `utcnow().isoformat()`: six digits of fraction, none at all when the microsecond is 0 (one row in a million). */
const BRIDGE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?$/;

interface MessageRow {
  id: number;
  conversation_id: string;
  from_session: string;
  to_session: string;
  message: string;
  metadata: string;
  timestamp: string;
  read: number;
}

/**
 * Every row autopoll wrote as side `b` in the conversation is what the bridge's own send writes
 * (PROTOCOL.md): addressed to `a`, unread, `{"action_type": "response"}` metadata, a bridge
 * timestamp, a response body in Python's json.dumps form (ASCII, its separators) within the
 * 50,000 characters of the tool schema, and one `send_message` audit row saying its length and
 * whether it was redacted. Every row `a` sent is read, with `get_messages` audit rows counting them.
 */
export function expectBridgeRowsValid(bridge: BridgeFixture, conversationId: string): { responses: number } {
  const rows = bridge.db.prepare('SELECT * FROM messages WHERE conversation_id = ? ORDER BY id').all(conversationId) as MessageRow[];
  const audits = bridge.db.prepare('SELECT * FROM audit_log WHERE conversation_id = ? ORDER BY id').all(conversationId) as Array<{ session_id: string | null; action: string; details: string; timestamp: string }>;
  const fromB = rows.filter((r) => r.from_session === 'b');
  const fromA = rows.filter((r) => r.from_session === 'a');
  const sendAudits = audits.filter((a) => a.session_id === 'b' && a.action === 'send_message');
  expect(sendAudits, 'one send_message audit row per response').toHaveLength(fromB.length);
  const auditsByTime = new Map<string, typeof sendAudits>();
  for (const a of sendAudits) auditsByTime.set(a.timestamp, [...(auditsByTime.get(a.timestamp) ?? []), a]);
  for (const r of fromB) {
    const where = `response row ${r.id}`;
    expect(r.to_session, where).toBe('a');
    expect(r.read, where).toBe(0);
    expect(r.metadata, where).toBe('{"action_type": "response"}');
    expect(r.timestamp, where).toMatch(BRIDGE_TIME);
    expect(typeof r.message, where).toBe('string');
    expect(r.message, `${where}: ASCII only (ensure_ascii)`).toMatch(/^[\x20-\x7e]*$/);
    expect(r.message.length, `${where}: within the tool schema's 50,000 characters`).toBeLessThanOrEqual(50_000);
    const body = JSON.parse(r.message) as Record<string, unknown>;
    expect(pyJsonDumps(body), `${where}: Python json.dumps form`).toBe(r.message);
    expect(body.type, where).toBe('response');
    expect(typeof body.query_id === 'string' && body.query_id.length > 0, `${where}: query_id`).toBe(true);
    expect(typeof body.answer, `${where}: answer`).toBe('string');
    expect(Array.isArray(body.sources) && (body.sources as unknown[]).every((s) => typeof s === 'string'), `${where}: sources`).toBe(true);
    if (body.error !== undefined) expect(body.error, where).toEqual({ kind: expect.any(String), message: expect.any(String) });
    const audit = (auditsByTime.get(r.timestamp) ?? []).find((a) => {
      const d = JSON.parse(a.details) as { message_length?: number };
      return d.message_length === r.message.length;
    });
    expect(audit, `${where}: its send_message audit row`).toBeDefined();
    const details = JSON.parse(audit!.details) as Record<string, unknown>;
    expect(audit!.details, `${where}: audit details`).toBe(pyJsonDumps({ to: 'a', message_length: r.message.length, redacted: details.redacted }));
    expect(typeof details.redacted, where).toBe('boolean');
  }
  for (const r of fromA) expect(r.read, `side a's row ${r.id} taken`).toBe(1);
  const fetched = audits
    .filter((a) => a.session_id === 'b' && a.action === 'get_messages')
    .reduce((n, a) => n + (JSON.parse(a.details) as { count: number }).count, 0);
  expect(fetched, 'get_messages audit rows count every row taken').toBe(fromA.length);
  return { responses: fromB.length };
}
