import type { Db } from '../bridge/openBridge.js';

/** A bridge row addressed to side `b`, as the scanner reads it. */
export interface InboxRow {
  id: number;
  conversation_id: string;
  from_session: string;
  message: string;
  timestamp: string;
}

/**
 * Finds unread rows addressed to side `b`. It keeps a cursor, the highest message id it has
 * looked past, so a scan costs the new rows only (a rowid range), however large `messages` is.
 * Ids grow in commit order (AUTOINCREMENT, one writer at a time), so nothing lands behind it.
 */
export class InboxScanner {
  private cursor = 0;
  private readonly newRows;
  private readonly maxId;
  private readonly backlog;
  private readonly snapshot;

  constructor(db: Db) {
    this.newRows = db.prepare<[number, number], InboxRow>(
      `SELECT id, conversation_id, from_session, message, timestamp FROM messages
       WHERE id > ? AND to_session = 'b' AND read = 0 ORDER BY id LIMIT ?`,
    );
    this.maxId = db.prepare<[], { id: number | null }>('SELECT MAX(id) AS id FROM messages');
    this.backlog = db.prepare<[string, number, number, number], InboxRow>(
      `SELECT id, conversation_id, from_session, message, timestamp FROM messages
       WHERE conversation_id = ? AND to_session = 'b' AND read = 0 AND id > ? AND id <= ? ORDER BY id LIMIT ?`,
    );
    // One read transaction, so the rows and the table's top id come from the same snapshot.
    this.snapshot = db.transaction((limit: number) => {
      const rows = this.newRows.all(this.cursor, limit);
      const top = rows.length < limit ? (this.maxId.get()?.id ?? 0) : rows[rows.length - 1]!.id;
      return { rows, top };
    });
  }

  /** Starts the cursor at the current top; older unread rows come through `backlogOf`. */
  startAtTop(): void {
    this.cursor = this.maxId.get()?.id ?? 0;
  }

  /** Unread rows for `b` committed since the last call, at most `limit`. */
  next(limit: number): InboxRow[] {
    const { rows, top } = this.snapshot(limit);
    this.cursor = Math.max(this.cursor, top);
    return rows;
  }

  /** Moves the cursor back so rows after `id` are seen again (their take failed). */
  rewind(id: number): void {
    this.cursor = Math.min(this.cursor, id);
  }

  /** A newly served conversation's unread rows behind the cursor, after id `after`. */
  backlogOf(conversationId: string, after: number, limit: number): InboxRow[] {
    return this.backlog.all(conversationId, after, this.cursor, limit);
  }
}
