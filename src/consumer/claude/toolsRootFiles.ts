import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OWNED_REASON, ownedIdentities, ownedKindOf, type Identity, type OwnedFiles } from '../../shared/ownedFiles.js';
import { holdsSqlitePages } from '../../shared/sqliteFiles.js';

export const SQLITE_REASON = "holds SQLite pages (a database, its -wal or -journal): the sessions never read one, as the bridge file (every conversation's token) is one";

/**
 * Why the sessions' tools must not read this file (a real path), or undefined. By identity (a hard
 * link to the bridge file is the bridge file) and by content (a standalone consumer does not know
 * which file the bridge is, but it is an SQLite database). Folders and missing files pass: the
 * tool itself reports those. `identities`: the owned files' identities when a scan took them once.
 */
export async function toolFileRefusal(real: string, owned: OwnedFiles, identities?: readonly Identity[]): Promise<string | undefined> {
  const s = await stat(real, { bigint: true }).catch(() => undefined);
  if (s === undefined || s.isDirectory()) return undefined;
  if (!s.isFile()) return 'is not a regular file (a FIFO, device or socket)';
  const kind = await ownedKindOf(s, real, owned, identities);
  if (kind !== undefined) return OWNED_REASON[kind];
  return (await holdsSqlitePages(real)) ? SQLITE_REASON : undefined;
}

/** Entries a start-time scan looks at: enough for a docs or code folder, bounded for a home folder. */
export const SCAN_LIMIT = 20_000;

export interface ScanResult {
  /** The first file Grep or Glob could reach that the sessions must never read. */
  found?: { path: string; reason: string };
  /** False when the folder had more than SCAN_LIMIT entries: the rest was not looked at. */
  complete: boolean;
  /** Entries read, so that a slow start can be told from a large folder. */
  entries: number;
}

/**
 * Grep and Glob walk folders, past any per-path check: a hard link to the bridge file, or a link
 * to it, anywhere under the tools root would be searched. This walk finds one at start (links to
 * folders are not followed, as ripgrep does not follow them by default; links to files are).
 */
export async function scanToolsRoot(root: string, owned: OwnedFiles): Promise<ScanResult> {
  const queue = [root];
  const identities = await ownedIdentities(owned);
  let seen = 0;
  while (queue.length) {
    const entries = await readdir(queue.shift()!, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (++seen > SCAN_LIMIT) return { complete: false, entries: SCAN_LIMIT };
      const path = join(e.parentPath, e.name);
      if (e.isDirectory()) {
        queue.push(path);
        continue;
      }
      if (!e.isFile() && !e.isSymbolicLink()) continue;
      const real = await realpath(path).catch(() => undefined);
      // A link to a FIFO, socket or device (/dev/null) is no file Grep reads, nor a reason to refuse to start.
      if (real === undefined || !(await isRegularFile(real))) continue;
      const reason = await toolFileRefusal(real, owned, identities);
      if (reason !== undefined) return { found: { path, reason }, complete: true, entries: seen };
    }
  }
  return { complete: true, entries: seen };
}

function isRegularFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
