import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BRIDGE_SCHEMA } from '../../src/bridge/bridgeSchema.js';
import { BRIDGE_SCHEMA_SQL } from '../support/bridge.js';

/** The tables as SQLite sees them, so that comments and spacing do not count. */
function tables(sql: string): Array<{ name: string; columns: unknown[] }> {
  const db = new Database(':memory:');
  db.exec(sql);
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  const out = names.map((name) => ({ name, columns: db.prepare(`PRAGMA table_info(${name})`).all() }));
  db.close();
  return out;
}

describe('the bridge schema autopoll creates a missing bridge file with', () => {
  it('is the bridge own schema.sql, table for table and column for column', () => {
    const ours = tables(BRIDGE_SCHEMA);
    expect(ours.map((t) => t.name)).toEqual(['audit_log', 'conversations', 'messages', 'session_status']);
    expect(ours).toEqual(tables(readFileSync(BRIDGE_SCHEMA_SQL, 'utf8')));
  });
});
