import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BRIDGE_SCHEMA, BRIDGE_TABLES } from './bridgeSchema.js';
import { BUSY_TIMEOUT_MS } from './busyTimeout.js';

export type Db = Database.Database;

export { BUSY_TIMEOUT_MS };

/**
 * read-only never writes, not even the journal mode (status, replay, doctor); read-write puts the
 * file in WAL, as the bridge's own connections do, and may be asked to `create` it: the file does
 * not exist yet, so it is made (with its folder) with the bridge's schema.
 */
export type OpenBridgeOptions = ({ access: 'read-only' } | { access: 'read-write'; create?: boolean }) & {
  /** BUSY_TIMEOUT_MS.command unless given. */
  busyTimeoutMs?: number;
  /** Tables the file must already hold: the bridge's own, or autopoll's ledger (a producer has run on it). */
  mustHold?: keyof typeof MUST_HOLD;
};

const MUST_HOLD = {
  bridge: { tables: BRIDGE_TABLES, refusal: (path: string, missing: string[]) => `${path} is not a bridge file: it has no ${missing.join(', ')} table` },
  ledger: { tables: ['autopoll_ledger'], refusal: (path: string) => `bridge file ${path} has no autopoll_ledger table: autopoll's producer has not run on it yet` },
};

/**
 * The one way autopoll opens the bridge file. A missing file is refused (saying how to name the
 * right one) unless `create` is asked for, so that a wrong path never becomes an empty bridge.
 */
export function openBridge(path: string, options: OpenBridgeOptions): Db {
  // SQLite's names for a private database: a bridge there is one no other process can reach.
  if (path === ':memory:' || path === '') throw new Error(`bridge file "${path}" names a database no other process can see; pass --bridge-db (env BRIDGE_DB) with the bridge's SQLite file`);
  const create = options.access === 'read-write' && options.create === true;
  if (create) mkdirSync(dirname(path), { recursive: true });
  else if (!existsSync(path)) throw new Error(`bridge file ${path} does not exist; pass --bridge-db (env BRIDGE_DB) with the bridge's SQLite file`);
  const db = new Database(path, { readonly: options.access === 'read-only', fileMustExist: !create });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? BUSY_TIMEOUT_MS.command))}`);
    if (create) db.exec(BRIDGE_SCHEMA);
    // Before the journal mode: a file refused for its tables is left as it was.
    if (options.mustHold) {
      const { tables, refusal } = MUST_HOLD[options.mustHold];
      const present = tableNames(db);
      const missing = tables.filter((t) => !present.has(t));
      if (missing.length) throw new Error(refusal(path, missing));
    }
    if (options.access === 'read-write') db.pragma('journal_mode = WAL');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The tables in the file, by name. */
export function tableNames(db: Db): Set<string> {
  return new Set(db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
}
