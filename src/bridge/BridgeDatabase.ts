import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { bridgeFileChange, BridgeFileLostError, fileIdentity, type FileIdentity } from './BridgeFile.js';
import { AUTOPOLL_SCHEMA } from './bridgeSchema.js';
import { openBridge, tableNames, type Db } from './openBridge.js';
import { bridgeNow } from './timestamp.js';

/**
 * The producer's handle: the bridge file opened as the bridge opens it (WAL, busy timeout), created
 * with the bridge's schema when it does not exist. `created` tells the caller to say so.
 */
export function openBridgeDatabase(path: string, options: { busyTimeoutMs: number }): { db: Db; created: boolean } {
  const created = !existsSync(path);
  const db = openBridge(path, { access: 'read-write', create: created, busyTimeoutMs: options.busyTimeoutMs });
  // WAL + NORMAL survives a process crash; a power cut may undo the last commits, which undoes the
  // take and the ledger row together, so the message is simply taken again.
  db.pragma('synchronous = NORMAL');
  rememberBridgeFile(db, path);
  return { db, created };
}

/**
 * Notes which file the handle opened at `path`, so that lostBridgeFile (and a BridgeWatcher on the
 * handle) can tell when that file is replaced or deleted; without it they never see a loss.
 */
export function rememberBridgeFile(db: Db, path: string): void {
  const identity = fileIdentity(path);
  if (identity) opened.set(db, { path, identity });
}

/** The file each writable handle opened, which every write checks is still the one at its path. */
const opened = new WeakMap<Db, { path: string; identity: FileIdentity }>();

/** Why the handle's file is no longer the bridge file at its path (replaced, deleted), if it is not. */
export function lostBridgeFile(db: Db): string | undefined {
  const file = opened.get(db);
  return file && bridgeFileChange(file.path, file.identity);
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
  if (!tableNames(db).has('autopoll_bridge')) return undefined;
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
