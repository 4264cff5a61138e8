import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openBridgeDatabase } from '../../src/bridge/BridgeDatabase.js';
import { AUTOPOLL_SCHEMA, BRIDGE_TABLES } from '../../src/bridge/bridgeSchema.js';
import { BUSY_TIMEOUT_MS, openBridge, tableNames, type Db } from '../../src/bridge/openBridge.js';
import { BRIDGE_SCHEMA_SQL, tempDir } from '../support/bridge.js';

/** A file made outside the opener: the bridge's schema (or `sql`), in the default rollback journal mode. */
function fileWith(sql = readFileSync(BRIDGE_SCHEMA_SQL, 'utf8')): string {
  const path = join(tempDir(), 'bridge.db');
  const db = new Database(path);
  db.exec(sql);
  db.close();
  return path;
}

function closedAfter(db: Db): Db {
  onTestFinished(() => {
    if (db.open) db.close();
  });
  return db;
}

describe('openBridge: a missing file', () => {
  it('read-only: refused, saying how to name the right one, and neither file nor folder is made', () => {
    const dir = join(tempDir(), 'nowhere');
    const path = join(dir, 'bridge.db');
    expect(() => openBridge(path, { access: 'read-only' })).toThrow(
      `bridge file ${path} does not exist; pass --bridge-db (env BRIDGE_DB) with the bridge's SQLite file`,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it("SQLite's private databases (':memory:', '') are refused: no asker could reach a bridge there", () => {
    for (const path of [':memory:', '']) {
      expect(() => openBridge(path, { access: 'read-write', create: true })).toThrow(`bridge file "${path}" names a database no other process can see`);
      expect(() => openBridgeDatabase(path, { busyTimeoutMs: 20 })).toThrow('pass --bridge-db');
    }
  });

  it('read-write without create: refused the same way, nothing made', () => {
    const path = join(tempDir(), 'bridge.db');
    expect(() => openBridge(path, { access: 'read-write' })).toThrow(`bridge file ${path} does not exist`);
    expect(existsSync(path)).toBe(false);
  });

  it('create: the folder and the file, with the bridge tables, in WAL', () => {
    const path = join(tempDir(), 'new', 'bridge.db');
    const db = closedAfter(openBridge(path, { access: 'read-write', create: true }));
    expect(existsSync(path)).toBe(true);
    expect([...tableNames(db)].filter((t) => !t.startsWith('sqlite_')).sort()).toEqual([...BRIDGE_TABLES].sort());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});

describe('openBridge: access', () => {
  it('read-only leaves the file as it was (journal mode too) and cannot write', () => {
    const path = fileWith();
    const before = statSync(path);
    const db = closedAfter(openBridge(path, { access: 'read-only', mustHold: 'bridge' }));
    expect(db.readonly).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(() => db.exec("INSERT INTO audit_log (action, timestamp) VALUES ('x', 'y')")).toThrow(/readonly/);
    db.close();
    const after = statSync(path);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('read-only on a WAL bridge no other process has open: the database bytes and journal mode stay as they were', () => {
    // SQLite itself may make the -wal and -shm files to read a WAL database; what must not change is the database.
    const path = fileWith();
    const wal = new Database(path);
    wal.pragma('journal_mode = WAL');
    wal.close();
    const before = readFileSync(path);
    const db = closedAfter(openBridge(path, { access: 'read-only', mustHold: 'bridge' }));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 0 });
    expect(() => db.exec("INSERT INTO audit_log (action, timestamp) VALUES ('x', 'y')")).toThrow(/readonly/);
    db.close();
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('read-write puts the file in WAL, as the bridge does', () => {
    const path = fileWith();
    const db = closedAfter(openBridge(path, { access: 'read-write' }));
    expect(db.readonly).toBe(false);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});

describe('openBridge: the tables a file must hold', () => {
  it('bridge: names every bridge table missing, and opens nothing', () => {
    const path = fileWith('CREATE TABLE things (id INTEGER); CREATE TABLE messages (id INTEGER)');
    expect(() => openBridge(path, { access: 'read-write', mustHold: 'bridge' })).toThrow(
      `${path} is not a bridge file: it has no conversations, session_status, audit_log table`,
    );
    // Refused before it changed anything: not even put in WAL.
    const check = closedAfter(new Database(path, { readonly: true }));
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
  });

  it("ledger: a bridge file autopoll's producer has not run on is refused, one it has is opened", () => {
    const path = fileWith();
    expect(() => openBridge(path, { access: 'read-only', mustHold: 'ledger' })).toThrow(
      `bridge file ${path} has no autopoll_ledger table: autopoll's producer has not run on it yet`,
    );
    const db = new Database(path);
    db.exec(AUTOPOLL_SCHEMA);
    db.close();
    const opened = closedAfter(openBridge(path, { access: 'read-only', mustHold: 'ledger' }));
    expect(tableNames(opened).has('autopoll_ledger')).toBe(true);
  });

  it('a file that is not SQLite is refused when its tables are looked at', () => {
    const path = join(tempDir(), 'notes.db');
    writeFileSync(path, 'not a database at all, but long enough to be read as a header and a page\n'.repeat(20));
    expect(() => openBridge(path, { access: 'read-only', mustHold: 'bridge' })).toThrow(/not a database/);
  });
});

describe('openBridge: the busy timeout', () => {
  it('is the policy default unless given', () => {
    const path = fileWith();
    expect(closedAfter(openBridge(path, { access: 'read-only' })).pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS.command);
    expect(closedAfter(openBridge(path, { access: 'read-only', busyTimeoutMs: BUSY_TIMEOUT_MS.check })).pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS.check);
  });

  it('is how long a write waits for another connection holding the lock', () => {
    const path = fileWith();
    openBridge(path, { access: 'read-write' }).close(); // in WAL from here on, as a bridge file is
    const holder = closedAfter(new Database(path));
    holder.exec('BEGIN IMMEDIATE');
    onTestFinished(() => {
      if (holder.inTransaction) holder.exec('ROLLBACK');
    });
    const waitFor = (busyTimeoutMs: number) => {
      const db = closedAfter(openBridge(path, { access: 'read-write', busyTimeoutMs }));
      const started = performance.now();
      expect(() => db.exec('BEGIN IMMEDIATE')).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      return performance.now() - started;
    };
    expect(waitFor(400)).toBeGreaterThanOrEqual(350);
    expect(waitFor(0)).toBeLessThan(200);
  });
});

describe("openBridgeDatabase (the producer's handle)", () => {
  it('says it created a missing file; a second open finds it; both write with synchronous NORMAL', () => {
    const path = join(tempDir(), 'data', 'bridge.db');
    const first = openBridgeDatabase(path, { busyTimeoutMs: 20 });
    closedAfter(first.db);
    expect(first.created).toBe(true);
    expect(first.db.pragma('busy_timeout', { simple: true })).toBe(20);
    expect(first.db.pragma('synchronous', { simple: true })).toBe(1);
    first.db.close();
    const second = openBridgeDatabase(path, { busyTimeoutMs: 20 });
    closedAfter(second.db);
    expect(second.created).toBe(false);
    expect(tableNames(second.db).has('conversations')).toBe(true);
  });
});
