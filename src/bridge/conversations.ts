import type { Db } from './openBridge.js';

/** A conversation served by id, with the side-b token that proves the right to serve it. */
export interface ConversationGrant {
  id: string;
  token: string;
}

/** What deciding whether to serve a conversation reads of its row. */
export interface ConversationRow {
  id: string;
  session_a_token: string;
  session_b_token: string;
  expires_at: string;
}

const COLUMNS = 'id, session_a_token, session_b_token, expires_at';

/** The bridge's conversations table, read by id or by side-b role. */
export class ConversationRows {
  private readonly idStmt;
  private readonly roleStmt;
  private readonly newestStmt;

  constructor(db: Db) {
    this.idStmt = db.prepare<[string], ConversationRow>(`SELECT ${COLUMNS} FROM conversations WHERE id = ?`);
    this.roleStmt = db.prepare<[string, string], ConversationRow>(`SELECT ${COLUMNS} FROM conversations WHERE session_b_role = ? AND expires_at > ?`);
    this.newestStmt = db.prepare<[], { rowid: number | null }>('SELECT MAX(rowid) AS rowid FROM conversations');
  }

  byId(id: string): ConversationRow | undefined {
    return this.idStmt.get(id);
  }

  /** The rowid of the newest conversation, 0 for none: a cheap look for new ones (a b-tree's last key). */
  newestRowid(): number {
    return this.newestStmt.get()?.rowid ?? 0;
  }

  /** Conversations whose side b has `role` and that expire after `now` (a bridge timestamp). */
  unexpiredOfRole(role: string, now: string): ConversationRow[] {
    return this.roleStmt.all(role, now);
  }
}
