import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BUSY_TIMEOUT_MS, openBridge, tableNames, type Db } from '../bridge/openBridge.js';
import { fail, ok, type Check, type CheckResult } from '../shared/checks.js';
import { errorText } from './check.js';

const SQLITE_HEADER = 'SQLite format 3\0';
/** Where a bridge's messages live: without them the path names some other SQLite file. */
const MESSAGE_TABLES = ['conversations', 'messages'];

/**
 * The bridge file: there, readable and writable by this user (and its folder, where WAL keeps
 * `-wal` and `-shm`), SQLite, the bridge's tables, WAL mode. Only reads: never creates the file
 * (the producer would, with an empty bridge, which hides a wrong path) and never writes to it.
 */
export function bridgeCheck(path: string, timeoutMs = 5000): Check {
  return { name: 'bridge', timeoutMs, run: async () => [await inspectBridge(path)] };
}

async function inspectBridge(path: string): Promise<CheckResult> {
  const file = resolve(path);
  const pathFix = "pass --bridge-db (env BRIDGE_DB) with the bridge's SQLite file, the one its MCP server writes";
  try {
    const info = await stat(file);
    if (!info.isFile()) return fail('bridge', `${file} is not a file`, pathFix);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fail('bridge', `bridge file ${file} does not exist`, pathFix);
    return fail('bridge', `cannot look at ${file}: ${errorText(err)}`, pathFix);
  }
  const ownerFix = `run autopoll as the user that owns ${file}, or give this user access: chown or chmod u+rw the file and u+rwx its folder`;
  if (!(await allowed(file, constants.R_OK))) return fail('bridge', `${file} is not readable by this user`, ownerFix);
  if (!(await allowed(file, constants.W_OK))) return fail('bridge', `${file} is not writable by this user: the producer writes the answers into it`, ownerFix);
  if (!(await allowed(dirname(file), constants.W_OK | constants.X_OK))) {
    return fail('bridge', `the folder ${dirname(file)} is not writable by this user: SQLite keeps the WAL (${file}-wal, -shm) beside the file`, ownerFix);
  }
  const header = await readHeader(file);
  if (header.length === 0) return fail('bridge', `${file} is empty: not a bridge database`, pathFix);
  if (header !== SQLITE_HEADER) return fail('bridge', `${file} is not an SQLite database`, pathFix);
  return inspectDatabase(file, pathFix);
}

function inspectDatabase(file: string, pathFix: string): CheckResult {
  let db: Db | undefined;
  try {
    db = openBridge(file, { access: 'read-only', busyTimeoutMs: BUSY_TIMEOUT_MS.check });
    const tables = tableNames(db);
    const missing = MESSAGE_TABLES.filter((t) => !tables.has(t));
    if (missing.length) return fail('bridge', `${file} is SQLite but not a bridge database: no ${missing.join(' or ')} table`, pathFix);
    const mode = String(db.pragma('journal_mode', { simple: true }));
    if (mode !== 'wal') {
      return fail(
        'bridge',
        `${file} is in ${mode} journal mode, not WAL: readers block the writer, so the bridge's sends and autopoll's answers wait on each other (and the bridge, which sets WAL, has not opened this file)`,
        `sqlite3 ${file} 'PRAGMA journal_mode=WAL;' while nothing else has it open (the bridge's own connections set WAL when they open it)`,
      );
    }
    const conversations = (db.prepare('SELECT COUNT(*) AS n FROM conversations').get() as { n: number }).n;
    const ledger = tables.has('autopoll_ledger') ? 'autopoll ledger present' : 'no autopoll ledger yet (the producer adds it)';
    return ok('bridge', `${file}: SQLite, WAL, ${conversations} ${conversations === 1 ? 'conversation' : 'conversations'}, ${ledger}`);
  } catch (err) {
    return fail('bridge', `cannot read ${file}: ${errorText(err)}`, pathFix);
  } finally {
    db?.close();
  }
}

async function allowed(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

async function readHeader(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
}
