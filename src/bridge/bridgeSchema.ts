/**
 * The bridge's own tables, as mcp-multiagent-bridge creates them (test/fixtures/bridge/schema.sql; a
 * test keeps the two identical). autopoll runs this only to create a bridge file that does not
 * exist yet; on an existing file every statement is IF NOT EXISTS and changes nothing.
 */
export const BRIDGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS conversations (
  id               TEXT PRIMARY KEY,
  session_a_role   TEXT NOT NULL,
  session_b_role   TEXT NOT NULL,
  session_a_token  TEXT NOT NULL,
  session_b_token  TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  expires_at       TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS messages (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id  TEXT NOT NULL,
  from_session     TEXT NOT NULL,
  to_session       TEXT NOT NULL,
  message          TEXT NOT NULL,
  metadata         TEXT,
  timestamp        TEXT NOT NULL,
  read             INTEGER DEFAULT 0,
  FOREIGN KEY (conversation_id) REFERENCES conversations(id)
);

CREATE TABLE IF NOT EXISTS session_status (
  conversation_id  TEXT NOT NULL,
  session_id       TEXT NOT NULL,
  status           TEXT NOT NULL,
  last_heartbeat   TEXT NOT NULL,
  PRIMARY KEY (conversation_id, session_id)
);

CREATE TABLE IF NOT EXISTS audit_log (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id  TEXT,
  session_id       TEXT,
  action           TEXT NOT NULL,
  details          TEXT,
  timestamp        TEXT NOT NULL
);
`;

/** The tables BRIDGE_SCHEMA makes: every bridge file holds them. */
export const BRIDGE_TABLES = ['conversations', 'messages', 'session_status', 'audit_log'] as const;

/**
 * autopoll's own objects, all prefixed autopoll_. autopoll_bridge holds the file's identity (one
 * row, made once): job ids and job data carry it, so answers cannot reach another bridge's file. The inbox index serves the backfill of a
 * conversation's unread rows (and the bridge's own reader, which filters on the same columns); the
 * role index, the producer's re-read of its role's unexpired conversations on each new one.
 */
export const AUTOPOLL_SCHEMA = `
CREATE TABLE IF NOT EXISTS autopoll_ledger (
  message_id           INTEGER PRIMARY KEY,
  conversation_id      TEXT NOT NULL,
  query_id             TEXT,
  state                TEXT NOT NULL CHECK (state IN ('queued', 'answered', 'failed', 'rejected')),
  attempts             INTEGER NOT NULL DEFAULT 0,
  job_id               TEXT,
  taken_at             TEXT NOT NULL,
  finished_at          TEXT,
  response_message_id  INTEGER,
  error_kind           TEXT,
  last_error           TEXT,
  updated_at           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS autopoll_ledger_state ON autopoll_ledger (state, message_id);
CREATE TABLE IF NOT EXISTS autopoll_bridge (
  singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
  bridge_id   TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS autopoll_messages_inbox ON messages (conversation_id, to_session, read);
CREATE INDEX IF NOT EXISTS autopoll_conversations_role ON conversations (session_b_role, expires_at);
`;
