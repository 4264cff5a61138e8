import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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
  return { db, created };
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

/** Adds autopoll's tables and indexes; idempotent, and a write, so callers retry it on SQLITE_BUSY. */
export function ensureAutopollSchema(db: Db): void {
  runImmediate(db, () => db.exec(AUTOPOLL_SCHEMA));
}

/** BEGIN IMMEDIATE: a read-then-write transaction that waits for the lock instead of deadlocking. */
export function runImmediate<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}
