import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { bridgeNow } from '../shared/timestamp.js';
import { bridgeFileChange, BridgeFileLostError, fileIdentity, type FileIdentity } from './BridgeFile.js';
import { AUTOPOLL_SCHEMA, BRIDGE_SCHEMA } from './bridgeSchema.js';

export type Db = Database.Database;

export interface OpenBridgeOptions {
  /** How long one statement waits for another process's write lock before SQLITE_BUSY. */
  busyTimeoutMs: number;
}

/**
 * Opens the bridge file as the bridge does (WAL, busy timeout), creating it with the bridge's
 * schema when it does not exist. `created` tells the caller to say so.
 */
export function openBridgeDatabase(path: string, options: OpenBridgeOptions): { db: Db; created: boolean } {
  const created = path !== ':memory:' && !existsSync(path);
  if (created) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { fileMustExist: false });
  db.pragma('journal_mode = WAL');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
  // WAL + NORMAL survives a process crash; a power cut may undo the last commits, which undoes the
  // take and the ledger row together, so the message is simply taken again.
  db.pragma('synchronous = NORMAL');
  if (created) db.exec(BRIDGE_SCHEMA);
  const identity = path === ':memory:' ? undefined : fileIdentity(path);
  if (identity) opened.set(db, { path, identity });
  return { db, created };
}

/** The file each writable handle opened, which every write checks is still the one at its path. */
const opened = new WeakMap<Db, { path: string; identity: FileIdentity }>();

/** Why the handle's file is no longer the bridge file at its path (replaced, deleted), if it is not. */
export function lostBridgeFile(db: Db): string | undefined {
  const file = opened.get(db);
  return file && bridgeFileChange(file.path, file.identity);
}

/**
 * Opens an existing bridge file for reading only (status, replay, doctor): never creates it, and
 * says what to do when autopoll has not run on it yet.
 */
export function openBridgeReadOnly(path: string, busyTimeoutMs = 5000): Db {
  if (!existsSync(path)) throw new Error(`bridge file ${path} does not exist; pass --bridge-db (env BRIDGE_DB) with the bridge's SQLite file`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  const ledger = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'autopoll_ledger'").get();
  if (!ledger) {
    db.close();
    throw new Error(`bridge file ${path} has no autopoll_ledger table: autopoll's producer has not run on it yet`);
  }
  return db;
}

/**
 * Adds autopoll's tables and indexes, and gives the file its identity the first time; returns
 * that bridge id. Idempotent, and a write, so callers retry it on SQLITE_BUSY.
 */
export function ensureAutopollSchema(db: Db): string {
  return runImmediate(db, () => {
    db.exec(AUTOPOLL_SCHEMA);
    // OR IGNORE: made once; a second producer on the file (or a restart) reads the first one's.
    db.prepare('INSERT OR IGNORE INTO autopoll_bridge (singleton, bridge_id, created_at) VALUES (1, ?, ?)').run(randomBytes(8).toString('hex'), bridgeNow());
    return readBridgeId(db)!;
  });
}

/** The bridge file's identity, or undefined when no producer of this version has opened it yet. */
export function readBridgeId(db: Db): string | undefined {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'autopoll_bridge'").get();
  if (!table) return undefined;
  return db.prepare<[], string>('SELECT bridge_id FROM autopoll_bridge WHERE singleton = 1').pluck().get();
}

/** The bridge id, for commands that enqueue for a bridge a producer of this version has opened. */
export function requireBridgeId(db: Db, path: string): string {
  const id = readBridgeId(db);
  if (id === undefined) throw new Error(`bridge file ${path} has no autopoll_bridge identity yet: start this version's producer on it once (it adds the identity), then run this again`);
  return id;
}

/**
 * BEGIN IMMEDIATE: a read-then-write transaction that waits for the lock instead of deadlocking.
 * Under the lock it first checks that the handle's file is still the bridge file at its path: a
 * write into a file moved or deleted away would be an answer nobody reads.
 */
export function runImmediate<T>(db: Db, fn: () => T): T {
  return db.transaction(() => {
    const lost = lostBridgeFile(db);
    if (lost) throw new BridgeFileLostError(`${lost}; nothing is written into it`);
    return fn();
  }).immediate();
}
