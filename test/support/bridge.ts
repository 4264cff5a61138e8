import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pyJsonDumps } from '../../src/shared/pyjson.js';
import { redactText } from '../../src/shared/redact.js';
import { bridgeNow, formatBridgeTimestamp, nowMicros } from '../../src/shared/timestamp.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../..');
export const SHARED_SCHEMA = resolve(REPO, '../shared/bridge/schema.sql');

export function tempDir(prefix = 'autopoll-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Conversation {
  id: string;
  tokenA: string;
  tokenB: string;
}

/**
 * The bridge as its MCP server (SecureBridge) uses it, written here the way that Python code
 * does: WAL, 10 s busy timeout, BEGIN IMMEDIATE, utcnow().isoformat() timestamps, redaction of
 * the whole text, audit rows. Tests play side `a` through it.
 */
export class BridgeFixture {
  readonly db: Database.Database;

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 10000');
  }

  static create(path = join(tempDir(), 'bridge.db')): BridgeFixture {
    const fixture = new BridgeFixture(path);
    fixture.db.exec(readFileSync(SHARED_SCHEMA, 'utf8'));
    return fixture;
  }

  createConversation(options: { role?: string; expiresInSec?: number } = {}): Conversation {
    const id = `conv_${randomBytes(8).toString('hex')}`;
    const tokenA = randomBytes(32).toString('hex');
    const tokenB = randomBytes(32).toString('hex');
    const created = nowMicros();
    const expires = created + (options.expiresInSec ?? 3 * 3600) * 1_000_000;
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, 'worker', options.role ?? 'haiku_shard', tokenA, tokenB, formatBridgeTimestamp(created), formatBridgeTimestamp(expires));
      this.db
        .prepare("INSERT INTO audit_log (conversation_id, session_id, action, details, timestamp) VALUES (?, NULL, 'create_conversation', ?, ?)")
        .run(id, pyJsonDumps({ session_a_role: 'worker', session_b_role: options.role ?? 'haiku_shard' }), bridgeNow());
    }).immediate();
    return { id, tokenA, tokenB };
  }

  /** Side `a` sends a message, as the bridge's send_message does. Returns its id. */
  send(conversationId: string, text: string, metadata: Record<string, unknown> = { action_type: 'question' }): number {
    return this.db.transaction(() => {
      const message = redactText(text);
      const meta = redactText(pyJsonDumps(metadata));
      const now = bridgeNow();
      const id = Number(
        this.db
          .prepare("INSERT INTO messages (conversation_id, from_session, to_session, message, metadata, timestamp, read) VALUES (?, 'a', 'b', ?, ?, ?, 0)")
          .run(conversationId, message, meta, now).lastInsertRowid,
      );
      this.db
        .prepare("INSERT INTO audit_log (conversation_id, session_id, action, details, timestamp) VALUES (?, 'a', 'send_message', ?, ?)")
        .run(conversationId, pyJsonDumps({ to: 'b', message_length: [...message].length, redacted: message !== text }), now);
      return id;
    }).immediate();
  }

  ask(conversationId: string, queryId: string, question: string, extra: Record<string, unknown> = {}): number {
    return this.send(conversationId, pyJsonDumps({ type: 'query', query_id: queryId, question, ...extra }));
  }

  /** Every message side `b` sent in the conversation, oldest first. */
  responses(conversationId?: string): Array<{ id: number; conversation_id: string; message: string; metadata: string; timestamp: string; body: Record<string, unknown> }> {
    const rows = this.db
      .prepare(
        `SELECT id, conversation_id, message, metadata, timestamp FROM messages WHERE from_session = 'b'${conversationId ? ' AND conversation_id = ?' : ''} ORDER BY id`,
      )
      .all(...(conversationId ? [conversationId] : [])) as Array<{ id: number; conversation_id: string; message: string; metadata: string; timestamp: string }>;
    return rows.map((r) => ({ ...r, body: JSON.parse(r.message) as Record<string, unknown> }));
  }

  ledger(messageId: number): Record<string, unknown> | undefined {
    return this.db.prepare('SELECT * FROM autopoll_ledger WHERE message_id = ?').get(messageId) as Record<string, unknown> | undefined;
  }

  close(): void {
    this.db.close();
  }
}
