import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BridgeClient } from '../../src/bridge/BridgeClient.js';
import { questionJobId } from '../../src/shared/queues.js';
import { removedAfterFile } from './cleanup.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../..');
/** The bridge's schema as mcp-multiagent-bridge creates it: the fixture every test bridge is made from. */
export const BRIDGE_SCHEMA_SQL = resolve(REPO, 'test/fixtures/bridge/schema.sql');

/** A fresh folder, removed after the test file (see cleanup.ts). */
export function tempDir(prefix = 'autopoll-test-'): string {
  return removedAfterFile(mkdtempSync(join(tmpdir(), prefix)));
}

export interface Conversation {
  id: string;
  tokenA: string;
  tokenB: string;
}

/**
 * The bridge as its MCP server (SecureBridge) uses it: WAL, 10 s busy timeout, and side `a`'s
 * writes through BridgeClient, as that Python code makes them. Tests play side `a` through it.
 */
export class BridgeFixture {
  readonly db: Database.Database;
  private bridgeClient: BridgeClient | undefined;

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 10000');
  }

  static create(path = join(tempDir(), 'bridge.db')): BridgeFixture {
    const fixture = new BridgeFixture(path);
    fixture.db.exec(readFileSync(BRIDGE_SCHEMA_SQL, 'utf8'));
    return fixture;
  }

  /** Made on first use: its statements need the tables, which `create` adds after opening. */
  get client(): BridgeClient {
    this.bridgeClient ??= new BridgeClient(this.db);
    return this.bridgeClient;
  }

  createConversation(options: { role?: string; expiresInSec?: number } = {}): Conversation {
    const { id, tokenA, tokenB } = this.client.createConversation({ roleA: 'worker', roleB: options.role ?? 'haiku_shard', ttlSec: options.expiresInSec });
    return { id, tokenA, tokenB };
  }

  /** Side `a` sends a message, as the bridge's send_message does. Returns its id. */
  send(conversationId: string, text: string, metadata?: Record<string, unknown>): number {
    return this.client.send(conversationId, 'a', text, metadata).id;
  }

  ask(conversationId: string, queryId: string, question: string, extra: Record<string, unknown> = {}): number {
    return this.client.ask(conversationId, queryId, question, extra).id;
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

  /** The file's identity (autopoll_bridge), once a producer has opened it. */
  bridgeId(): string {
    return this.db.prepare<[], string>('SELECT bridge_id FROM autopoll_bridge').pluck().get()!;
  }

  /** The question job id of a message taken by this version's producer. */
  jobId(messageId: number): string {
    return questionJobId(this.bridgeId(), messageId);
  }

  close(): void {
    this.db.close();
  }
}
